/* sign.h — Ed25519 signatures of registry versions (libsodium).
 *
 * `mlpc deploy` signs each stored version's manifest.json (which lists the
 * sha256 of every file of the version) into manifest.sig, 128 hex digits
 * and a newline. `mlpc rollback` and a deployed predictor's --verify check
 * it. Keys:
 *
 *   MLPC_SIGNING_KEY_FILE   names a file holding the secret key: its 32-byte
 *                           Ed25519 seed as 64 hex digits (deploy signs);
 *   MLPC_VERIFY_KEY         the public key as 64 hex digits (what checks a
 *                           signature); when unset, the public half of the
 *                           signing key.
 *
 * With a verify key set, an unsigned version is refused as well. */
#ifndef MLP_SIGN_H
#define MLP_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The signing key from MLPC_SIGNING_KEY_FILE: secret key sk and its public
 * half pk. 0; 1 when none is configured; -1 with a message in err. */
int mlprt_signing_key(uint8_t sk[64], uint8_t pk[32], char *err, size_t n);
/* The key that checks signatures: MLPC_VERIFY_KEY, else the signing key's
 * public half. 0; 1 when there is neither; -1 with a message in err. */
int mlprt_verify_key(uint8_t pk[32], char *err, size_t n);
/* The key as hex (65 bytes with NUL). */
void mlprt_key_hex(const uint8_t pk[32], char hex[65]);

/* Sign DIR/manifest.json into DIR/manifest.sig. 0, or -1 with a message. */
int mlprt_manifest_sign(const char *dir, const uint8_t sk[64], char *err, size_t n);
/* Whether DIR/manifest.sig exists. */
bool mlprt_manifest_signed(const char *dir);
/* Check DIR's manifest.json against its seal (manifest.sha256) and, when a
 * key is given or the version is signed, its signature: a signed version
 * needs a key, and a key needs a signed version. 0, or -1 with a message
 * naming the file at fault. */
int mlprt_manifest_check(const char *dir, char *err, size_t n);

/* A predictor's --verify: the registry version DIR is signed by the
 * verify key (MLPC_VERIFY_KEY, which must be set: a predictor does not
 * read signing keys), and this very program (/proc/self/exe)
 * is one of the files it lists, whose name goes to file. 0, or -1 with a
 * message. */
int mlprt_predictor_verify(const char *dir, char *file, size_t fn, char *err, size_t n);

#endif
