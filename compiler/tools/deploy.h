/* deploy.h — the version registry: `mlpc deploy`, `mlpc versions` and
 * `mlpc rollback`.
 *
 * Consumes a trained run directory (its manifest's sha256 of every
 * artifact, its spec's deploy.version) and optional predictor and ONNX
 * files; produces REGISTRY/NAME/VERSION/ (copies of the artifacts and
 * files plus a manifest.json with the sha256 of each stored file, the
 * source run directory, the date and the test metrics) and
 * REGISTRY/NAME/CURRENT, the active version, always written atomically.
 * Nothing is stored or switched to unless every file it covers matches its
 * recorded digest. */
#ifndef MLP_DEPLOY_H
#define MLP_DEPLOY_H

#include <stdbool.h>

/* True when cmd is one of the registry's commands. */
bool mlp_deploy_is_command(const char *cmd);

/* Run a registry command; argv[0] is the command (deploy, versions or
 * rollback), its options follow:
 *   deploy RUN_DIR [--registry DIR] [--predictor PATH] [--onnx PATH]
 *     (DIR: the spec's deploy.registry, by default "registry")
 *   versions --registry DIR [NAME]
 *   rollback --registry DIR NAME [VERSION]
 * Messages go to stdout, errors to stderr. Exit status: 0, or 2 for usage
 * errors, unreadable or tampered files and unknown names or versions. */
int mlp_deploy_main(int argc, char **argv);

#endif
