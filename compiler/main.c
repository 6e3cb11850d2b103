/* main.c — the mlpc driver.
 *
 * Parses the command line and runs the stages in order: read the source,
 * parse, check, and (for fmt) print. Exit status: 0 clean, 1 errors in a
 * spec, 2 usage or I/O errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "fmt.h"
#include "help.h"
#include "parse.h"
#include "sema.h"

enum { EXIT_SPEC = 1, EXIT_USAGE = 2 };

static const char usage[] =
    "usage: mlpc COMMAND [OPTIONS] FILE...\n"
    "\n"
    "Compile declarative .mlp machine-learning pipelines to native programs.\n"
    "\n"
    "Commands:\n"
    "  check FILE...        parse and check specs; report every error\n"
    "  fmt FILE [-w]        print FILE in canonical layout (-w: rewrite it in place)\n"
    "  help [TOPIC]         document a section, statement, op or value (no TOPIC: list sections)\n"
    "  help --spec          print the reference tables of SPEC.md (Markdown)\n"
    "\n"
    "Options:\n"
    "  --dump=ast           (check) print the syntax tree after parsing\n"
    "  --max-errors=N       stop after N errors (default 20)\n"
    "  --color=WHEN         colour diagnostics: auto, always or never (default auto)\n"
    "  -Werror              treat warnings as errors\n"
    "  -h, --help           show this help\n"
    "  --version            show the version\n"
    "\n"
    "Exit status: 0 success, 1 errors in a spec, 2 usage or I/O errors.\n"
    "Run 'mlpc help data' (or any section or op name) for the language reference.\n";

typedef struct {
  const char *cmd;
  const char **files;
  int nfiles;
  int max_errors;
  int color; /* -1 auto, 0 never, 1 always */
  int dump_ast;
  int write;
  int werror;
} Options;

static int usage_error(const char *fmt, const char *arg) {
  fputs("mlpc: error: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\nTry 'mlpc --help'.\n", stderr);
  return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, Options *o) {
  static const char *const commands[] = {"check", "fmt", "help"};
  memset(o, 0, sizeof *o);
  o->max_errors = 20;
  o->color = -1;
  o->files = calloc((size_t)argc, sizeof *o->files);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(usage, stdout);
      exit(0);
    } else if (strcmp(a, "--version") == 0) {
      printf("mlpc %s\n", MLP_VERSION);
      exit(0);
    } else if (strcmp(a, "--dump=ast") == 0) {
      o->dump_ast = 1;
    } else if (strncmp(a, "--max-errors=", 13) == 0) {
      char *end;
      long n = strtol(a + 13, &end, 10);
      if (*end || n < 1 || n > 100000) return usage_error("bad --max-errors value '%s'", a + 13);
      o->max_errors = (int)n;
    } else if (strncmp(a, "--color=", 8) == 0) {
      const char *w = a + 8;
      if (strcmp(w, "auto") == 0) o->color = -1;
      else if (strcmp(w, "always") == 0) o->color = 1;
      else if (strcmp(w, "never") == 0) o->color = 0;
      else return usage_error("bad --color value '%s' (auto, always or never)", w);
    } else if (strcmp(a, "-w") == 0) {
      o->write = 1;
    } else if (strcmp(a, "-Werror") == 0) {
      o->werror = 1;
    } else if (a[0] == '-' && a[1] && !(o->cmd && strcmp(o->cmd, "help") == 0)) {
      return usage_error("unknown option '%s'", a);
    } else if (!o->cmd) {
      o->cmd = a;
      const char *near = mlp_closest(a, commands, 3);
      int known = 0;
      for (int c = 0; c < 3; c++) known |= strcmp(a, commands[c]) == 0;
      if (!known) {
        if (near) {
          fprintf(stderr, "mlpc: error: unknown command '%s'; did you mean '%s'?\n", a, near);
          return EXIT_USAGE;
        }
        return usage_error("unknown command '%s'", a);
      }
    } else {
      o->files[o->nfiles++] = a;
    }
  }
  if (!o->cmd) {
    fputs(usage, stderr);
    return EXIT_USAGE;
  }
  return 0;
}

static void diag_setup(MlpDiag *d, const Options *o) {
  mlp_diag_init(d, stderr);
  d->max_errors = o->max_errors;
  if (o->color >= 0) d->color = o->color;
}

/* Read and parse one file; NULL (after a message) when it cannot be read. */
static MlpAst *load(MlpArena *a, const char *path, MlpDiag *d) {
  MlpSource *src = mlp_source_read(a, path);
  if (!src) {
    fprintf(stderr, "mlpc: error: cannot read '%s': %s\n", path, strerror(errno));
    return NULL;
  }
  return mlp_parse(a, src, d);
}

static int cmd_check(const Options *o) {
  if (o->nfiles == 0) return usage_error("%s: no input files", "check");
  int status = 0;
  for (int i = 0; i < o->nfiles; i++) {
    MlpArena a;
    MlpDiag d;
    mlp_arena_init(&a);
    diag_setup(&d, o);
    MlpAst *ast = load(&a, o->files[i], &d);
    if (!ast) {
      status = EXIT_USAGE;
    } else {
      if (o->dump_ast) mlp_ast_dump(ast->file, stdout);
      if (d.nerr == 0) mlp_sema_check(&a, ast, &d);
      if (d.nerr > 0 || (o->werror && d.nwarn > 0)) {
        if (status == 0) status = EXIT_SPEC;
        fprintf(stderr, "%s: %d error%s, %d warning%s\n", o->files[i], d.nerr, d.nerr == 1 ? "" : "s",
                d.nwarn, d.nwarn == 1 ? "" : "s");
      }
    }
    mlp_arena_free(&a);
  }
  return status;
}

/* Write text to path through a temporary file and rename, so the file is
 * either the old one or the new one, never half-written. */
static int write_atomically(const char *path, const char *text, size_t len) {
  size_t n = strlen(path) + 16;
  char *tmp = malloc(n);
  snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  int ok = f && fwrite(text, 1, len, f) == len;
  if (f && fclose(f) != 0) ok = 0;
  if (ok && rename(tmp, path) != 0) ok = 0;
  if (!ok) {
    fprintf(stderr, "mlpc: error: cannot write '%s': %s\n", path, strerror(errno));
    remove(tmp);
  }
  free(tmp);
  return ok ? 0 : EXIT_USAGE;
}

static int cmd_fmt(const Options *o) {
  if (o->nfiles != 1) return usage_error("%s: expects exactly one file", "fmt");
  MlpArena a;
  MlpDiag d;
  mlp_arena_init(&a);
  diag_setup(&d, o);
  int status = 0;
  MlpAst *ast = load(&a, o->files[0], &d);
  if (!ast) {
    status = EXIT_USAGE;
  } else if (d.nerr > 0) {
    status = EXIT_SPEC;
  } else {
    char *out = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&out, &len);
    mlp_fmt(ast, mem);
    fclose(mem);
    if (!o->write) fwrite(out, 1, len, stdout);
    else if (len != (size_t)ast->src->len || memcmp(out, ast->src->text, len) != 0)
      status = write_atomically(o->files[0], out, len);
    free(out);
  }
  mlp_arena_free(&a);
  return status;
}

static int cmd_help(const Options *o) {
  if (o->nfiles > 1) return usage_error("%s: expects at most one topic", "help");
  if (o->nfiles == 1 && strcmp(o->files[0], "--spec") == 0) {
    mlp_help_spec_tables(stdout);
    return 0;
  }
  return mlp_help(o->nfiles ? o->files[0] : NULL, stdout, stderr) ? EXIT_USAGE : 0;
}

int main(int argc, char **argv) {
  Options o;
  int rc = parse_args(argc, argv, &o);
  if (rc == 0) {
    if (strcmp(o.cmd, "check") == 0) rc = cmd_check(&o);
    else if (strcmp(o.cmd, "fmt") == 0) rc = cmd_fmt(&o);
    else rc = cmd_help(&o);
  }
  free(o.files);
  return rc;
}
