/* main.c — the mlpc driver.
 *
 * Parses the command line and runs the stages in order: read the source,
 * parse, check, and then print (fmt), explain the plan (explain), or lower,
 * generate, optimise, emit and link a training program (build), and run it
 * (run). Exit status: 0 clean, 1 errors in a spec, 2 usage or I/O errors;
 * `run` exits with the training program's status. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen.h"
#include "columns.h"
#include "compress.h"
#include "deploy.h"
#include "diag.h"
#include "emit.h"
#include "export.h"
#include "fmt.h"
#include "help.h"
#include "draft.h"
#include "lower.h"
#include "mlp/files.h"
#include "mlp/run.h"
#include "onnx.h"
#include "parse.h"
#include "sema.h"

enum { EXIT_SPEC = 1, EXIT_USAGE = 2 };

typedef struct {
  const char *cmd;
  const char **files;
  int nfiles;
  int max_errors;
  int color; /* -1 auto, 0 never, 1 always */
  int dump_ast;
  int write;
  int check_fmt;            /* fmt --check */
  int werror;
  const char *output;       /* -o */
  int opt;                  /* -O level */
  int emit_ir, emit_llvm, emit_obj, keep_temps;
  const char *target, *cpu;
  const char *quantize, *prune, *max_drop; /* export */
  const char *onnx;             /* export --onnx */
  int force;                    /* init --force */
  const char **prog_args;   /* run: options for the training program */
  int nprog_args;
} Options;

static int usage_error(const char *fmt, const char *arg) {
  fputs("mlpc: error: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\nTry 'mlpc --help'.\n", stderr);
  return EXIT_USAGE;
}

/* argv with each "--NAME=VALUE" of an option that takes a value split into
 * "--NAME" "VALUE", as GNU long options allow (the '=' becomes the first
 * one's end; the vector is malloc'd; *argc updated). */
static char **split_long_options(int *argc, char **argv) {
  static const char *const valued[] = {"--target", "--cpu",  "--quantize", "--prune", "--max-accuracy-drop",
                                       "--onnx",   "--out",  "--set",      "--data",  "--threads",
                                       "--seed"};
  char **out = calloc((size_t)(2 * *argc + 1), sizeof *out);
  int n = 0;
  for (int i = 0; i < *argc; i++) {
    char *eq = strncmp(argv[i], "--", 2) == 0 ? strchr(argv[i], '=') : NULL;
    bool split = false;
    for (size_t k = 0; eq && k < sizeof valued / sizeof *valued && !split; k++)
      split = strlen(valued[k]) == (size_t)(eq - argv[i]) &&
              strncmp(argv[i], valued[k], strlen(valued[k])) == 0;
    if (split) {
      *eq = 0;
      out[n++] = argv[i];
      out[n++] = eq + 1;
    } else {
      out[n++] = argv[i];
    }
  }
  *argc = n;
  return out;
}

static int parse_args(int argc, char **argv, Options *o) {
  int ncommands = 0;
  while (mlp_commands[ncommands]) ncommands++;
  memset(o, 0, sizeof *o);
  o->max_errors = 20;
  o->color = -1;
  o->opt = 2;
  o->files = calloc((size_t)argc, sizeof *o->files);
  o->prog_args = calloc((size_t)argc, sizeof *o->prog_args);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool is_run = o->cmd && strcmp(o->cmd, "run") == 0;
    if (is_run && (strcmp(a, "--out") == 0 || strcmp(a, "--set") == 0 || strcmp(a, "--data") == 0 ||
                   strcmp(a, "--threads") == 0 || strcmp(a, "--seed") == 0)) {
      if (i + 1 >= argc) return usage_error("option '%s' needs a value", a);
      o->prog_args[o->nprog_args++] = a;
      o->prog_args[o->nprog_args++] = argv[++i];
    } else if (is_run &&
               (strcmp(a, "--quiet") == 0 || strcmp(a, "--verbose") == 0 || strcmp(a, "--resume") == 0 ||
                strcmp(a, "--tune") == 0)) {
      o->prog_args[o->nprog_args++] = a;
    } else if (strcmp(a, "-o") == 0 || strcmp(a, "--target") == 0 || strcmp(a, "--cpu") == 0) {
      if (i + 1 >= argc) return usage_error("option '%s' needs a value", a);
      const char *v = argv[++i];
      if (a[1] == 'o') o->output = v;
      else if (a[2] == 't') o->target = v;
      else o->cpu = v;
    } else if (strcmp(a, "--quantize") == 0 || strcmp(a, "--prune") == 0 ||
               strcmp(a, "--max-accuracy-drop") == 0) {
      if (i + 1 >= argc) return usage_error("option '%s' needs a value", a);
      if (a[2] == 'q') o->quantize = argv[++i];
      else if (a[2] == 'p') o->prune = argv[++i];
      else o->max_drop = argv[++i];
    } else if (strcmp(a, "--onnx") == 0) {
      if (i + 1 >= argc) return usage_error("option '%s' needs a value", a);
      o->onnx = argv[++i];
    } else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) {
      o->opt = a[2] - '0';
    } else if (strcmp(a, "--emit-ir") == 0) {
      o->emit_ir = 1;
    } else if (strcmp(a, "--emit-llvm") == 0) {
      o->emit_llvm = 1;
    } else if (strcmp(a, "--emit-obj") == 0) {
      o->emit_obj = 1;
    } else if (strcmp(a, "--keep-temps") == 0) {
      o->keep_temps = 1;
    } else if (strcmp(a, "--force") == 0) {
      o->force = 1;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      if (!o->cmd || mlp_help_command(o->cmd, stdout) != 0) mlp_help_usage(stdout);
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
    } else if (strcmp(a, "--check") == 0) {
      o->check_fmt = 1;
    } else if (strcmp(a, "-Werror") == 0) {
      o->werror = 1;
    } else if (a[0] == '-' && a[1] && !(o->cmd && strcmp(o->cmd, "help") == 0)) {
      return usage_error("unknown option '%s'", a);
    } else if (!o->cmd) {
      o->cmd = a;
      const char *near = mlp_closest(a, (const char **)mlp_commands, ncommands);
      int known = 0;
      for (int c = 0; c < ncommands; c++) known |= strcmp(a, mlp_commands[c]) == 0;
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
    mlp_help_usage(stderr);
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

/* The column accounting of a lowered plan (columns.h) on out, headed by
 * the spec's path when not NULL; data that cannot be read is said, not an
 * error. */
static void print_columns(MlpArena *a, const MlpIr *ir, const char *spec, FILE *out) {
  if (ir->data.path2) return; /* images: pixels, no columns */
  MlpColumns cols;
  char err[1024];
  if (mlp_columns_account(a, &ir->data, &cols, err, sizeof err) != 0) {
    fprintf(out, "columns: not accounted for: %s\n", err);
    return;
  }
  mlp_columns_print(&cols, spec, out);
}

/* check: when the spec lowers (its data readable), its column accounting;
 * lowering's own messages belong to build and are not repeated here. */
static void check_columns(MlpArena *a, const MlpSpec *spec, const char *path) {
  char *text = NULL;
  size_t len = 0;
  FILE *mute = open_memstream(&text, &len);
  MlpDiag quiet;
  mlp_diag_init(&quiet, mute);
  MlpIr *ir = mlp_lower(a, spec, path, &quiet);
  fclose(mute);
  free(text);
  if (ir) print_columns(a, ir, path, stdout);
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
      MlpSpec *spec = d.nerr == 0 ? mlp_sema_check(&a, ast, &d) : NULL;
      if (spec && d.nerr == 0) check_columns(&a, spec, o->files[i]);
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

/* The canonical layout of path (malloc'd, *len bytes) and its source;
 * NULL after reporting (*status: how to exit). */
static char *formatted(MlpArena *a, const Options *o, const char *path, const MlpSource **src, size_t *len,
                       int *status) {
  MlpDiag d;
  diag_setup(&d, o);
  MlpAst *ast = load(a, path, &d);
  *status = !ast ? EXIT_USAGE : d.nerr > 0 ? EXIT_SPEC : 0;
  if (*status) return NULL;
  char *out = NULL;
  FILE *mem = open_memstream(&out, len);
  mlp_fmt(ast, mem);
  fclose(mem);
  *src = ast->src;
  return out;
}

/* fmt FILE prints, fmt FILE -w rewrites when it changes, fmt --check
 * FILE... names each file whose layout is not canonical and exits 1. */
static int cmd_fmt(const Options *o) {
  if (!o->check_fmt && o->nfiles != 1) return usage_error("%s: expects exactly one file", "fmt");
  if (o->nfiles == 0) return usage_error("%s: no input files", "fmt --check");
  int status = 0;
  for (int i = 0; i < o->nfiles; i++) {
    MlpArena a;
    mlp_arena_init(&a);
    const MlpSource *src;
    size_t len = 0;
    int st;
    char *out = formatted(&a, o, o->files[i], &src, &len, &st);
    bool same = out && len == (size_t)src->len && memcmp(out, src->text, len) == 0;
    if (!out) {
      status = status ? status : st;
    } else if (o->check_fmt) {
      if (!same) fprintf(stderr, "%s: not in canonical layout (mlpc fmt -w %s rewrites it)\n", o->files[i],
                         o->files[i]);
      if (!same && !status) status = EXIT_SPEC;
    } else if (!o->write) {
      fwrite(out, 1, len, stdout);
    } else if (!same && mlprt_write_atomic(o->files[i], out, len, false) != 0) {
      /* the old file or the new one, never half of one */
      fprintf(stderr, "mlpc: error: cannot write '%s': %s\n", o->files[i], strerror(errno));
      status = EXIT_USAGE;
    }
    free(out);
    mlp_arena_free(&a);
  }
  return status;
}

/* Front end and lowering of one spec: its plan, or NULL after reporting
 * (*status says how the command should exit). */
static MlpIr *plan(MlpArena *a, const char *path, const Options *o, const MlpSource **src, int *status) {
  MlpDiag d;
  diag_setup(&d, o);
  MlpAst *ast = load(a, path, &d);
  *status = EXIT_SPEC;
  if (!ast) {
    *status = EXIT_USAGE;
    return NULL;
  }
  MlpSpec *spec = d.nerr == 0 ? mlp_sema_check(a, ast, &d) : NULL;
  MlpIr *ir = spec && !(o->werror && d.nwarn > 0) ? mlp_lower(a, spec, path, &d) : NULL;
  if (ir && o->werror && d.nwarn > 0) ir = NULL; /* lowering warns too */
  char lib[PATH_MAX], mpi_lib[PATH_MAX], err[PATH_MAX + 256];
  if (ir && ir->mpi && mlp_emit_find_runtime(lib, sizeof lib, err, sizeof err) == 0 &&
      mlp_emit_find_mpi(lib, mpi_lib, sizeof mpi_lib, err, sizeof err) != 0) {
    /* Refused where it is written, by every command that plans it. */
    const MlpSpecValue *v = mlp_spec_setting(mlp_spec_block(spec, "environment"), "distributed");
    mlp_diag_error(&d, v->node->loc, "%s", err);
    ir = NULL;
  }
  if (!ir)
    fprintf(stderr, "%s: %d error%s, %d warning%s\n", path, d.nerr, d.nerr == 1 ? "" : "s", d.nwarn,
            d.nwarn == 1 ? "" : "s");
  *src = ast->src;
  return ir;
}

/* Generate, optimise and emit ir as o asks, into out (an executable unless
 * --emit-llvm or --emit-obj). 0 or EXIT_USAGE after a message. */
static int emit_program(MlpArena *a, const MlpIr *ir, const MlpSource *src, const Options *o,
                        const char *out) {
  char err[2048], hex[65];
  mlprt_sha256_hex(src->text, (size_t)src->len, hex);
  MlpEmitOpts eo = {.opt = o->opt, .triple = o->target, .cpu = o->cpu};
  unsigned major, minor, patch;
  LLVMGetVersion(&major, &minor, &patch);
  char compiler[64], cpu[128];
  snprintf(compiler, sizeof compiler, "mlpc %s (LLVM %u.%u.%u)", MLP_VERSION, major, minor, patch);
  MlpCodegenInfo info = {hex, src->text, ir->data.path, ir->data.path2, compiler,
                         mlp_emit_cpu(&eo, cpu, sizeof cpu)};
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef mod = mlp_codegen(ctx, ir, &info);
  int rc = mlp_emit_optimize(mod, &eo, err, sizeof err);
  /* The intermediate object of an executable has a name of this process
   * alone (two builds into one place never share it); --keep-temps keeps
   * it as OUT.o. */
  const char *obj = o->emit_obj     ? out
                    : o->keep_temps ? mlp_arena_printf(a, "%s.o", out)
                                    : mlp_arena_printf(a, "%s.o.tmp.%ld", out, (long)getpid());
  if (rc == 0 && o->emit_llvm) rc = mlp_emit_ll(mod, out, err, sizeof err);
  else if (rc == 0) rc = mlp_emit_object(mod, &eo, obj, err, sizeof err);
  LLVMDisposeModule(mod);
  LLVMContextDispose(ctx);
  if (rc == 0 && !o->emit_llvm && !o->emit_obj) {
    char lib[4096];
    rc = mlp_emit_find_runtime(lib, sizeof lib, err, sizeof err);
    if (rc == 0) rc = mlp_emit_link(obj, lib, out, ir->mpi, err, sizeof err);
    if (!o->keep_temps) remove(obj);
  }
  if (rc != 0) {
    fprintf(stderr, "mlpc: error: %s\n", err);
    return EXIT_USAGE;
  }
  return 0;
}

static int cmd_build(const Options *o) {
  if (o->nfiles != 1) return usage_error("%s: expects exactly one file", "build");
  if (o->emit_llvm && o->emit_obj) return usage_error("%s", "--emit-llvm and --emit-obj exclude each other");
  MlpArena a;
  mlp_arena_init(&a);
  const MlpSource *src;
  int status;
  MlpIr *ir = plan(&a, o->files[0], o, &src, &status);
  if (ir && o->emit_ir) {
    mlp_ir_dump(ir, stdout);
    status = 0;
  } else if (ir) {
    const char *out = o->output;
    if (!out) out = mlp_arena_printf(&a, "%s%s", ir->name, o->emit_llvm ? ".ll" : o->emit_obj ? ".o" : "");
    status = emit_program(&a, ir, src, o, out);
  }
  mlp_arena_free(&a);
  return status;
}

/* init: the column report on stderr when the spec goes to stdout (stdout
 * otherwise); -o writes the spec whole or not at all, and never over a
 * file unless --force says so. */
static int cmd_init(const Options *o) {
  if (o->nfiles != 1) return usage_error("%s: expects exactly one data file", "init");
  if (o->output && !o->force && access(o->output, F_OK) == 0) {
    fprintf(stderr, "mlpc: error: '%s' exists; pass --force to replace it\n", o->output);
    return EXIT_USAGE;
  }
  char *text = NULL, err[1024];
  size_t len = 0;
  FILE *spec = o->output ? open_memstream(&text, &len) : stdout;
  MlpDraftOpts io = {.data = o->files[0], .target = o->target, .spec_path = o->output};
  int rc = mlp_draft(&io, spec, o->output ? stdout : stderr, err, sizeof err);
  if (o->output) fclose(spec);
  if (rc != 0) {
    fprintf(stderr, "mlpc: error: %s\n", err);
  } else if (o->output && mlprt_write_atomic(o->output, text, len, false) != 0) {
    fprintf(stderr, "mlpc: error: cannot write '%s': %s\n", o->output, strerror(errno));
    rc = -1;
  } else if (o->output) {
    printf("wrote %s: check it with 'mlpc check %s', train it with 'mlpc run %s'\n", o->output, o->output,
           o->output);
  }
  free(text);
  return rc ? EXIT_USAGE : 0;
}

static int cmd_explain(const Options *o) {
  if (o->nfiles != 1) return usage_error("%s: expects exactly one file", "explain");
  MlpArena a;
  mlp_arena_init(&a);
  const MlpSource *src;
  int status;
  MlpIr *ir = plan(&a, o->files[0], o, &src, &status);
  if (ir) {
    mlp_explain(ir, stdout);
    fputc('\n', stdout);
    print_columns(&a, ir, NULL, stdout);
    status = 0;
  }
  mlp_arena_free(&a);
  return status;
}

/* Build into a temporary directory, run the program with the options that
 * followed the file, and return its exit status. */
static int cmd_run(const Options *o) {
  if (o->nfiles != 1) return usage_error("%s: expects exactly one file", "run");
  MlpArena a;
  mlp_arena_init(&a);
  const MlpSource *src;
  int status;
  MlpIr *ir = plan(&a, o->files[0], o, &src, &status);
  char dir[] = "/tmp/mlpc-run-XXXXXX";
  if (ir && !mkdtemp(dir)) {
    fprintf(stderr, "mlpc: error: cannot create a temporary directory: %s\n", strerror(errno));
    ir = NULL;
    status = EXIT_USAGE;
  }
  if (ir) {
    Options bo = *o;
    bo.emit_llvm = bo.emit_obj = bo.keep_temps = 0;
    const char *exe = mlp_arena_printf(&a, "%s/%s", dir, ir->name);
    status = emit_program(&a, ir, src, &bo, exe);
    if (status == 0) {
      const char **argv = mlp_arena_alloc(&a, (size_t)(o->nprog_args + 2) * sizeof *argv);
      argv[0] = exe;
      memcpy(argv + 1, o->prog_args, (size_t)o->nprog_args * sizeof *argv);
      fflush(stdout);
      pid_t pid = fork();
      if (pid == 0) {
        execv(exe, (char *const *)argv);
        _exit(127);
      }
      int st = 0;
      if (pid < 0 || waitpid(pid, &st, 0) < 0) status = EXIT_USAGE;
      else status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      remove(exe);
    }
    rmdir(dir);
  }
  mlp_arena_free(&a);
  return status;
}

/* A trained run directory into a predictor (export.h). */
static int cmd_export(const Options *o) {
  if (o->nfiles != 1) return usage_error("%s: expects exactly one run directory", "export");
  char err[2048];
  if (o->onnx) {
    if (o->output || o->emit_obj || o->emit_llvm || o->quantize || o->prune)
      return usage_error("%s", "export --onnx writes the ONNX file alone (no -o, --emit-*, --quantize)");
    if (mlp_onnx_export(o->files[0], o->onnx, NULL, stdout, err, sizeof err) == 0) return 0;
    fprintf(stderr, "mlpc: error: %s\n", err);
    return EXIT_USAGE;
  }
  MlpExportOpts eo;
  mlp_export_opts_init(&eo, o->files[0]);
  eo.out = o->output;
  eo.opt = o->opt;
  eo.triple = o->target;
  eo.cpu = o->cpu;
  eo.emit_obj = o->emit_obj;
  eo.emit_llvm = o->emit_llvm;
  eo.force = o->force;
  eo.announce = true;
  if (o->quantize && strcmp(o->quantize, "int8") == 0) eo.quantize = MLP_QUANT_INT8;
  else if (o->quantize && strcmp(o->quantize, "none") != 0)
    return usage_error("bad --quantize value '%s' (int8 or none)", o->quantize);
  if (o->prune) {
    char *end;
    eo.prune = strtod(o->prune, &end);
    if (*end || end == o->prune) return usage_error("bad --prune value '%s'", o->prune);
  }
  double max_drop = -1; /* the spec's */
  if (o->max_drop) {
    char *end;
    max_drop = strtod(o->max_drop, &end);
    if (*end || end == o->max_drop || !(max_drop >= 0 && max_drop <= 1))
      return usage_error("bad --max-accuracy-drop value '%s' (in [0, 1])", o->max_drop);
  }
  /* Compression is checked on the run's test rows and may be refused (1). */
  int rc = mlp_compress_command(&eo, o->quantize != NULL, o->prune != NULL, max_drop);
  if (rc != 0) return rc;
  if (!eo.emit_obj && !eo.emit_llvm &&
      mlp_onnx_export(o->files[0], NULL, eo.out, stdout, err, sizeof err) != 0) {
    fprintf(stderr, "mlpc: error: %s\n", err);
    return EXIT_USAGE;
  }
  return 0;
}

/* A run's report.html made again (run.h). */
static int cmd_report(const Options *o) {
  if (o->nfiles != 1) return usage_error("%s: expects exactly one run directory", "report");
  char err[2048];
  if (mlprt_report_rerun(o->files[0], o->output, err, sizeof err) != 0) {
    fprintf(stderr, "mlpc: error: %s\n", err);
    return EXIT_USAGE;
  }
  return 0;
}

/* Two runs compared (run.h). */
static int cmd_diff(const Options *o) {
  if (o->nfiles != 2) return usage_error("%s: expects two run directories", "diff");
  char err[2048];
  if (mlprt_run_diff(o->files[0], o->files[1], stdout, o->output, err, sizeof err) != 0) {
    fprintf(stderr, "mlpc: error: %s\n", err);
    return EXIT_USAGE;
  }
  return 0;
}

static int cmd_help(const Options *o) {
  if (o->nfiles > 1) return usage_error("%s: expects at most one topic", "help");
  if (o->nfiles == 1 && strcmp(o->files[0], "--spec") == 0) {
    mlp_help_spec_tables(stdout);
    return 0;
  }
  if (o->nfiles == 1 && strcmp(o->files[0], "--man") == 0) {
    mlp_help_man(stdout, MLP_VERSION);
    return 0;
  }
  if (o->nfiles == 1 && strcmp(o->files[0], "--man-spec") == 0) {
    mlp_help_man_spec(stdout, MLP_VERSION);
    return 0;
  }
  if (o->nfiles == 1 && strcmp(o->files[0], "--zsh-completion") == 0) {
    mlp_help_zsh_completion(stdout);
    return 0;
  }
  if (o->nfiles == 1 && strcmp(o->files[0], "--vim") == 0) {
    mlp_help_vim(stdout);
    return 0;
  }
  if (o->nfiles == 1 && strcmp(o->files[0], "--textmate") == 0) {
    mlp_help_textmate(stdout);
    return 0;
  }
  if (o->nfiles == 1 && strcmp(o->files[0], "--bash-completion") == 0) {
    mlp_help_bash_completion(stdout);
    return 0;
  }
  const char *topic = o->nfiles ? o->files[0] : NULL;
  if (!topic || mlp_help_command(topic, stdout) != 0)
    return mlp_help(topic, stdout, stderr) ? EXIT_USAGE : 0;
  /* a command that is also a word of the language (init): both */
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len), *quiet = fopen("/dev/null", "w");
  if (mem && quiet && mlp_help(topic, mem, quiet) == 0) {
    fclose(mem);
    mem = NULL;
    printf("\nIn the language:\n%s", text);
  }
  if (mem) fclose(mem);
  if (quiet) fclose(quiet);
  free(text);
  return 0;
}

int main(int argc, char **argv) {
  /* The registry's commands take their own options (deploy.h). */
  if (argc > 1 && mlp_deploy_is_command(argv[1])) return mlp_deploy_main(argc - 1, argv + 1);
  Options o;
  int nargs = argc;
  char **args = split_long_options(&nargs, argv);
  int rc = parse_args(nargs, args, &o);
  if (rc == 0) {
    if (strcmp(o.cmd, "init") == 0) rc = cmd_init(&o);
    else if (strcmp(o.cmd, "check") == 0) rc = cmd_check(&o);
    else if (strcmp(o.cmd, "fmt") == 0) rc = cmd_fmt(&o);
    else if (strcmp(o.cmd, "build") == 0) rc = cmd_build(&o);
    else if (strcmp(o.cmd, "run") == 0) rc = cmd_run(&o);
    else if (strcmp(o.cmd, "explain") == 0) rc = cmd_explain(&o);
    else if (strcmp(o.cmd, "export") == 0) rc = cmd_export(&o);
    else if (strcmp(o.cmd, "report") == 0) rc = cmd_report(&o);
    else if (strcmp(o.cmd, "diff") == 0) rc = cmd_diff(&o);
    else rc = cmd_help(&o);
  }
  free(o.files);
  free(o.prog_args);
  free(args);
  return rc;
}
