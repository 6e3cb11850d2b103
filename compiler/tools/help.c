/* help.c — `mlpc help` and SPEC.md's reference tables (see help.h).
 *
 * Consumes the builtin registry and prints it two ways: plain text for one
 * topic on a terminal, and Markdown tables for SPEC.md. Both print the same
 * type, default and range texts, so the docs say what sema checks. */
#include "help.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "registry.h"

/* A type, tersely: "int", "list of metric", "optimizer call". */
static const char *type_short(const MlpRegField *f, char *buf, size_t n) {
  static const char *const base[] = {"int", "float", "bool", "string", "scalar", "column", "columns"};
  const MlpType *t = &f->type;
  const char *one = t->kind == MLP_TY_ENUM ? t->set : t->kind == MLP_TY_CALL ? t->set : base[t->kind];
  snprintf(buf, n, "%s%s%s%s", t->list ? "list of " : "", one, t->kind == MLP_TY_CALL ? " call" : "",
           t->list ? "s" : "");
  return buf;
}

/* The default as the reader should see it. */
static const char *default_text(const MlpRegField *f, char *buf, size_t n) {
  const MlpRegField *from = mlp_reg_inherited(f);
  if (from)
    snprintf(buf, n, "%s%s", from->op ? "" : "hyperparameters.", from->name);
  else if (f->def)
    snprintf(buf, n, "%s", f->def);
  else
    snprintf(buf, n, "%s", f->required ? "required" : "none");
  return buf;
}

static const char *range_text(const MlpRegField *f, char *buf, size_t n) {
  if (f->range_text && f->usual_text)
    snprintf(buf, n, "%s, usually %s", f->range_text, f->usual_text);
  else if (f->usual_text)
    snprintf(buf, n, "usually %s", f->usual_text);
  else
    snprintf(buf, n, "%s", f->range_text ? f->range_text : "");
  return buf;
}

static void signature(const MlpRegOp *op, FILE *out) {
  char def[96];
  fprintf(out, "%s(", op->name);
  for (int i = 0; i < op->nparams; i++) {
    const MlpRegField *p = op->params[i];
    fprintf(out, "%s%s", i ? ", " : "", p->name);
    if (!p->required) fprintf(out, " = %s", default_text(p, def, sizeof def));
  }
  fputc(')', out);
}

/* What a planned entry means, in help's words. */
#define PLANNED_NOTE " (planned: checked, refused by mlpc build and export)"

static const char *op_notes(const MlpRegOp *op) {
  if (op->planned) return PLANNED_NOTE;
  if (op->implied) return " (applied with its defaults when not written)";
  if (op->standalone) return " (a whole model: no other layers)";
  return "";
}

/* ---- plain text -------------------------------------------------------- */

static void field_line(const MlpRegField *f, FILE *out) {
  char ty[96], def[80], when[96], rng[96], line[400];
  default_text(f, def, sizeof def);
  snprintf(when, sizeof when, "%s%s", f->required ? "" : "default ", def);
  int n = snprintf(line, sizeof line, "  %-20s %-22s %-30s %s", f->name, type_short(f, ty, sizeof ty), when,
                   range_text(f, rng, sizeof rng));
  while (n > 0 && line[n - 1] == ' ') line[--n] = 0; /* no trailing blanks when there is no range */
  fprintf(out, "%s\n  %-20s %s%s\n", line, "", f->doc, f->planned ? PLANNED_NOTE : "");
}

static void help_op(const MlpRegOp *op, FILE *out) {
  signature(op, out);
  if (op->kind)
    fprintf(out, "    [%s]\n", op->kind->name);
  else
    fprintf(out, "    [op of '%s']\n", op->block->name);
  fprintf(out, "  %s%s\n", op->doc, op_notes(op));
  if (op->nparams) fputs("\nParameters:\n", out);
  for (int i = 0; i < op->nparams; i++) field_line(op->params[i], out);
}

static void help_setting(const MlpRegField *f, FILE *out) {
  fprintf(out, "%s = ...    [setting of '%s']\n", f->name, f->block->name);
  field_line(f, out);
}

static void help_block(const MlpRegBlock *b, FILE *out) {
  fprintf(out, "%s { ... }    [%s]\n  %s\n", b->name, b->parent && b->parent->parent ? "block" : "section",
          b->doc);
  if (b->nsettings || b->any) fputs("\nSettings:\n", out);
  for (int i = 0; i < b->nsettings; i++) field_line(b->settings[i], out);
  if (b->any) fprintf(out, "  %-20s %s (%s)\n", "NAME = ...", b->any->doc, b->any->type_text);
  if (b->nops) fputs("\nOps:\n", out);
  for (int i = 0; i < b->nops; i++)
    fprintf(out, "  %-20s %s%s\n", b->ops[i]->name, b->ops[i]->doc, op_notes(b->ops[i]));
  if (b->nblocks) fputs("\nBlocks:\n", out);
  for (int i = 0; i < b->nblocks; i++) fprintf(out, "  %-20s %s\n", b->blocks[i]->name, b->blocks[i]->doc);
  if (b->spaces)
    fputs("\nSearch spaces: HYPERPARAMETER in [a, b, ...] | a .. b | logrange(low, high)\n"
          "  (or model.OP.PARAM in ...; model in [ARCHITECTURE, ...] searches whole models)\n",
          out);
  fprintf(out, "\nRun 'mlpc help NAME' for any op or setting above.\n");
}

static void help_kind(const MlpRegKind *k, FILE *out) {
  fprintf(out, "%s    [kind of value]\n  %s\n\nOps:\n", k->name, k->doc);
  for (int i = 0; i < k->nops; i++) {
    fputs("  ", out);
    signature(k->ops[i], out);
    fprintf(out, "\n      %s%s\n", k->ops[i]->doc, op_notes(k->ops[i]));
  }
}

static void help_enum(const MlpRegEnum *e, FILE *out) {
  fprintf(out, "%s    [enum set]\n  %s\n\nValues:\n", e->name, e->doc);
  for (int i = 0; i < e->nvalues; i++) fprintf(out, "  %-20s %s\n", e->values[i], e->docs[i]);
}

/* "SCOPE.NAME": a setting, op or block of a block, an op of a kind, or a
 * value of an enum set, when a bare name is ambiguous. */
static bool help_qualified(const char *topic, FILE *out) {
  const char *dot = strrchr(topic, '.'), *name = dot + 1;
  char scope[64];
  snprintf(scope, sizeof scope, "%.*s", (int)(dot - topic), topic);
  const char *last = strrchr(scope, '.'); /* "data.clean.impute": the innermost scope */
  const MlpRegBlock *b = mlp_reg_block(last ? last + 1 : scope);
  const MlpRegKind *k = mlp_reg_kind(scope);
  const MlpRegEnum *e = mlp_reg_enum(scope);
  const MlpRegField *f = b ? mlp_reg_setting(b, name) : NULL;
  const MlpRegOp *op = b ? mlp_reg_block_op(b, name) : k ? mlp_reg_kind_op(k, name) : NULL;
  const MlpRegBlock *sub = b ? mlp_reg_subblock(b, name) : NULL;
  int v = e ? mlp_reg_enum_find(e, name) : -1;
  if (f)
    help_setting(f, out);
  else if (op)
    help_op(op, out);
  else if (sub)
    help_block(sub, out);
  else if (v >= 0)
    fprintf(out, "%s    [value of '%s']\n  %s\n", name, e->name, e->docs[v]);
  return f || op || sub || v >= 0;
}

static void section_list(FILE *out) {
  const MlpRegistry *R = mlp_registry();
  fputs("A .mlp file holds one pipeline; its sections follow the 8-step training model:\n\n", out);
  for (int i = 0; i < R->pipeline->nblocks; i++) {
    const MlpRegBlock *b = R->pipeline->blocks[i];
    fprintf(out, "  %-16s %s%s\n", b->name, b->doc, b->required ? " (required)" : "");
  }
  fputs("\nDefinitions:\n", out);
  for (int i = 0; i < R->ndefs; i++) fprintf(out, "  %-16s %s\n", R->defs[i].keyword, R->defs[i].doc);
  fputs("\nKinds of call values:", out);
  for (int i = 0; i < R->nkinds; i++) fprintf(out, " %s", R->kinds[i]->name);
  fputs("\nEnum sets:", out);
  for (int i = 0; i < R->nenums; i++) fprintf(out, " %s", R->enums[i]->name);
  fputs("\n\nRun 'mlpc help TOPIC' for a section, op, setting, kind, enum set or value.\n", out);
}

int mlp_help(const char *topic, FILE *out, FILE *err) {
  if (!topic) {
    section_list(out);
    return 0;
  }
  const MlpRegistry *R = mlp_registry();
  if (strchr(topic, '.') && help_qualified(topic, out)) return 0;
  int found = 0;
  /* Every registry entry with this name: a name may be a section's setting
   * and another section's op (`monitor`), so all of them are shown. */
#define SEPARATE() (found++ ? fputs("\n", out) : 0)
  for (int i = 1; i < R->nblocks; i++)
    if (strcmp(R->blocks[i]->name, topic) == 0) SEPARATE(), help_block(R->blocks[i], out);
  for (int i = 0; i < R->ndefs; i++)
    if (strcmp(R->defs[i].keyword, topic) == 0)
      SEPARATE(), fprintf(out, "%s NAME { ... }    [definition]\n  %s\n", topic, R->defs[i].doc);
  for (int i = 0; i < R->nkinds; i++)
    if (strcmp(R->kinds[i]->name, topic) == 0) SEPARATE(), help_kind(R->kinds[i], out);
  for (int i = 0; i < R->nops; i++)
    if (strcmp(R->ops[i]->name, topic) == 0) SEPARATE(), help_op(R->ops[i], out);
  for (int i = 0; i < R->nfields; i++)
    if (R->fields[i]->block && strcmp(R->fields[i]->name, topic) == 0)
      SEPARATE(), help_setting(R->fields[i], out);
  for (int i = 0; i < R->nenums; i++) {
    const MlpRegEnum *e = R->enums[i];
    if (strcmp(e->name, topic) == 0) SEPARATE(), help_enum(e, out);
    int v = mlp_reg_enum_find(e, topic);
    if (v >= 0) SEPARATE(), fprintf(out, "%s    [value of '%s']\n  %s\n", topic, e->name, e->docs[v]);
  }
#undef SEPARATE
  if (found) return 0;
  int cap = R->nblocks + R->ndefs + R->nkinds + R->nops + R->nfields + R->nenums;
  for (int i = 0; i < R->nenums; i++) cap += R->enums[i]->nvalues;
  const char **names = mlp_xmalloc(sizeof *names * (size_t)cap);
  int n = 0;
  for (int i = 1; i < R->nblocks; i++) names[n++] = R->blocks[i]->name;
  for (int i = 0; i < R->ndefs; i++) names[n++] = R->defs[i].keyword;
  for (int i = 0; i < R->nkinds; i++) names[n++] = R->kinds[i]->name;
  for (int i = 0; i < R->nops; i++) names[n++] = R->ops[i]->name;
  for (int i = 0; i < R->nfields; i++)
    if (R->fields[i]->block) names[n++] = R->fields[i]->name;
  for (int i = 0; i < R->nenums; i++) {
    names[n++] = R->enums[i]->name;
    for (int j = 0; j < R->enums[i]->nvalues; j++) names[n++] = R->enums[i]->values[j];
  }
  const char *near = mlp_closest(topic, names, n);
  if (near)
    fprintf(err, "mlpc: error: no help for '%s'; did you mean '%s'?\n", topic, near);
  else
    fprintf(err, "mlpc: error: no help for '%s'; run 'mlpc help' for the sections\n", topic);
  free(names);
  return 1;
}

/* ---- Markdown for SPEC.md --------------------------------------------------- */

/* A default for a table cell: values as code, "required" and "none" as words. */
static const char *md_default(const MlpRegField *f, char *buf, size_t n) {
  char text[64];
  default_text(f, text, sizeof text);
  if (mlp_reg_inherited(f) || f->def)
    snprintf(buf, n, "`%s`", text);
  else
    snprintf(buf, n, "%s", text);
  return buf;
}

static void md_fields(const MlpRegField *const *fields, int n, const MlpRegField *any, FILE *out) {
  char ty[96], def[80], rng[96];
  if (!n && !any) return;
  fputs("\n| setting | type | default | range | status | description |\n|---|---|---|---|---|---|\n", out);
  for (int i = 0; i < n; i++)
    fprintf(out, "| `%s` | %s | %s | %s | %s | %s |\n", fields[i]->name, type_short(fields[i], ty, sizeof ty),
            md_default(fields[i], def, sizeof def), range_text(fields[i], rng, sizeof rng),
            mlp_reg_status(fields[i]->planned), fields[i]->doc);
  if (any)
    fprintf(out, "| *any column name* | %s | | | %s | %s |\n", type_short(any, ty, sizeof ty),
            mlp_reg_status(any->planned), any->doc);
}

static void md_ops(const MlpRegOp *const *ops, int n, FILE *out) {
  char ty[96], def[80], rng[96];
  if (!n) return;
  fputs("\n| op | parameter | type | default | range | status | description |\n"
        "|---|---|---|---|---|---|---|\n",
        out);
  for (int i = 0; i < n; i++) {
    const MlpRegOp *op = ops[i];
    fprintf(out, "| `%s` | | | | | %s | %s%s |\n", op->name, mlp_reg_status(op->planned), op->doc,
            op->planned ? "" : op_notes(op));
    for (int j = 0; j < op->nparams; j++) {
      const MlpRegField *p = op->params[j];
      fprintf(out, "| | `%s`%s | %s | %s | %s | %s | %s |\n", p->name, p->keyword_only ? " (named)" : "",
              type_short(p, ty, sizeof ty), md_default(p, def, sizeof def), range_text(p, rng, sizeof rng),
              mlp_reg_status(p->planned), p->doc);
    }
  }
}

static void md_block(const MlpRegBlock *b, const char *prefix, FILE *out) {
  fprintf(out, "\n### `%s%s`%s\n\n%s.\n", prefix, b->name, b->required ? " (required)" : "", b->doc);
  md_fields(b->settings, b->nsettings, b->any, out);
  md_ops(b->ops, b->nops, out);
  for (int i = 0; i < b->nblocks; i++) {
    char sub[64];
    snprintf(sub, sizeof sub, "%s%s.", prefix, b->name);
    md_block(b->blocks[i], sub, out);
  }
}

void mlp_help_spec_tables(FILE *out) {
  const MlpRegistry *R = mlp_registry();
  fputs("### Sections\n\n| section | step |\n|---|---|\n", out);
  for (int i = 0; i < R->pipeline->nblocks; i++)
    fprintf(out, "| `%s` | %s |\n", R->pipeline->blocks[i]->name, R->pipeline->blocks[i]->doc);
  for (int i = 0; i < R->pipeline->nblocks; i++) md_block(R->pipeline->blocks[i], "", out);
  for (int i = 0; i < R->nkinds; i++) {
    const MlpRegKind *k = R->kinds[i];
    fprintf(out, "\n### %s values\n\n%s: a call, or a bare name for the op with its defaults.\n", k->name,
            k->doc);
    md_ops(k->ops, k->nops, out);
  }
  fputs("\n### Planned\n\n", out);
  int nplanned = 0;
  for (int i = 0; i < R->nops; i++) nplanned += R->ops[i]->planned;
  for (int i = 0; i < R->nfields; i++) nplanned += R->fields[i]->planned;
  if (nplanned == 0)
    fputs("Nothing at present: every op, setting and parameter of the language is built.\n", out);
  else
    fputs("Checked by `mlpc check`, refused by `mlpc build` and `mlpc export` where a spec writes them:\n\n",
          out);
  for (int i = 0; i < R->nops; i++)
    if (R->ops[i]->planned) fprintf(out, "- `%s.%s` and its parameters\n", R->ops[i]->scope, R->ops[i]->name);
  for (int i = 0; i < R->nfields; i++) {
    const MlpRegField *f = R->fields[i];
    if (f->planned && !(f->op && f->op->planned))
      fprintf(out, "- `%s.%s`\n", f->block ? f->block->name : f->op->name, f->name);
  }
  fputs("\n### Enum sets\n\n| set | values | description |\n|---|---|---|\n", out);
  for (int i = 0; i < R->nenums; i++) {
    const MlpRegEnum *e = R->enums[i];
    fprintf(out, "| `%s` | ", e->name);
    for (int j = 0; j < e->nvalues; j++) fprintf(out, "%s`%s`", j ? ", " : "", e->values[j]);
    fprintf(out, " | %s |\n", e->doc);
  }
}

/* ---- the command line --------------------------------------------------------- */

typedef struct {
  const char *name, *synopsis; /* synopsis: what follows the name */
  const char *what;            /* one or more lines, each ending in '\n' */
} Command;

static const Command commands[] = {
    {"init", "DATA [--target COL] [-o SPEC] [--force]",
     "print the columns DATA holds and write a first spec "
     "for it (default target: the last column; default "
     "SPEC: standard output)\n"},
    {"check", "FILE...", "parse and check specs; report every error\n"},
    {"fmt", "FILE [-w] | --check FILE...",
     "print FILE in canonical layout (-w: rewrite it in "
     "place; --check: name the files not in canonical "
     "layout and exit 1 if any)\n"},
    {"help", "[TOPIC | COMMAND | --FORMAT]",
     "document a section, statement, op, value or command "
     "(no TOPIC: list sections; --spec: the reference "
     "tables of SPEC.md, in Markdown; --man, --man-spec, --vim, --textmate, --bash-completion, "
     "--zsh-completion: the manual pages mlpc(1) and mlpc-spec(5), the Vim syntax and the "
     "TextMate/VS Code grammar of .mlp files and the shell completions that make install installs)\n"},
    {"build", "FILE", "compile FILE to a native training program\n"},
    {"run", "FILE [PROGRAM OPTIONS]", "build FILE, then train: the program's options follow FILE\n"},
    {"explain", "FILE", "describe the compiled plan: data, layers, shapes, memory, training\n"},
    {"export", "RUN_DIR",
     "compile a trained run into a standalone predictor "
     "(default name: deploy.predictor, else the pipeline's)\n"},
    {"report", "RUN_DIR [-o FILE]",
     "write the run's report.html again from its manifest, metrics and cleaning record (default: into "
     "RUN_DIR, only when it comes out as the run sealed it)\n"},
    {"diff", "RUN_A RUN_B [-o FILE]",
     "compare two runs: the settings that differ, every final metric and each class's scores (-o: also "
     "as an HTML file)\n"},
    {"deploy", "RUN_DIR [--registry DIR] [--predictor PATH] [--onnx PATH]",
     "store a verified run as the next version of its pipeline\n"},
    {"versions", "--registry DIR [NAME]", "list the stored versions, the current one marked\n"},
    {"rollback", "--registry DIR NAME [VERSION]",
     "make VERSION (default: the one before the current) "
     "current\n"},
};
enum { NCOMMANDS = sizeof commands / sizeof *commands };

const char *const mlp_commands[] = {"init",   "check",  "fmt",  "help",   "build",    "run",      "explain",
                                    "export", "report", "diff", "deploy", "versions", "rollback", NULL};

typedef struct {
  const char *flags;
  const char *scope; /* the commands it applies to, ' ' between; "" for all */
  const char *what;  /* lines, each ending in '\n' */
} Option;

static const Option options[] = {
    {"--dump=ast", "check", "print the syntax tree after parsing\n"},
    {"--max-errors=N", "", "stop after N errors (default 20)\n"},
    {"--color=WHEN", "", "colour diagnostics: auto, always or never (default auto)\n"},
    {"-Werror", "check build run explain", "treat warnings as errors\n"},
    {"-w", "fmt", "rewrite the file in place\n"},
    {"--check", "fmt", "name the files not in canonical layout; exit 1 if any\n"},
    {"--target COL", "init", "the column to predict (default: the last one)\n"},
    {"-o SPEC", "init", "write the spec to SPEC (default: standard output)\n"},
    {"--force", "init export",
     "replace an existing file (init: SPEC; export: the predictor at its default name, which is never "
     "replaced in silence; a file named with -o always is)\n"},
    {"-o PATH", "build export", "the output file (default: the pipeline's name)\n"},
    {"-o FILE", "report diff", "the HTML file to write (report: instead of the run's own)\n"},
    {"-O0 -O1 -O2 -O3", "build run export", "optimisation level (default -O2)\n"},
    {"--emit-ir", "build", "print the plan as JSON instead of building\n"},
    {"--emit-llvm", "build export", "write textual LLVM IR (PATH.ll) instead of building\n"},
    {"--emit-obj", "build export",
     "write the object file (PATH.o) instead of linking; export: and the C header PATH.h\n"},
    {"--keep-temps", "build", "keep the object file beside the program\n"},
    {"--target TRIPLE", "build export", "cross-compile for an LLVM target triple\n"},
    {"--cpu NAME", "build export",
     "the CPU to tune for (default: this machine's; export: deploy.cpu, else x86-64-v2)\n"},
    {"--quantize int8", "export", "int8 weights, one scale per output (default: deploy.quantize)\n"},
    {"--prune SPARSITY", "export",
     "zero this fraction of each weight matrix, smallest first (default: deploy.prune)\n"},
    {"--max-accuracy-drop X", "export",
     "refuse compression costing more test accuracy (R2) "
     "than X (default: deploy.max_accuracy_drop, 0.01); "
     "refused: exit status 1\n"},
    {"--onnx FILE", "export",
     "write the run's ONNX model to FILE instead of a "
     "predictor (a predictor export also writes the spec's "
     "deploy.onnx beside it)\n"},
    {"PROGRAM OPTIONS", "run",
     "--out DIR, --set K=V, --data PATH, --threads N, --seed N, --quiet, --verbose, --resume, --tune: "
     "passed to the training program (its --help lists them)\n"},
    {"--registry DIR", "deploy versions rollback", "the registry (deploy: default deploy.registry)\n"},
    {"--predictor PATH, --onnx PATH", "deploy", "store these files with the version\n"},
    {"-h, --help", "", "show this help\n"},
    {"--version", "", "show the version\n"},
};
enum { NOPTIONS = sizeof options / sizeof *options };

/* Text in a column from `indent` to 79, words wrapped, '\n' a hard break;
 * the first line placed after `used` columns already written. */
static void put_indented(FILE *out, const char *text, int indent, int used) {
  const int width = 79 - indent;
  for (const char *s = text; *s;) {
    const char *nl = strchr(s, '\n');
    int len = nl ? (int)(nl - s) : (int)strlen(s);
    /* the longest run of whole words that fits */
    int take = len;
    if (take > width) {
      take = width;
      while (take > 0 && s[take] != ' ') take--;
      if (take == 0) take = width;
    }
    fprintf(out, "%*s%.*s\n", used < indent ? indent - used : 0, "", take, s);
    used = 0;
    s += take;
    while (*s == ' ') s++;
    if (*s == '\n') s++;
  }
}

/* "  HEAD" then the text in the column at 23, on the same line when HEAD fits. */
static void put_entry(FILE *out, const char *head, const char *text) {
  int used = fprintf(out, "  %s", head);
  if (used > 21) {
    fputc('\n', out);
    used = 0;
  }
  put_indented(out, text, 23, used);
}

static bool in_scope(const Option *o, const char *cmd) {
  if (!*o->scope) return true;
  size_t n = strlen(cmd);
  for (const char *s = o->scope; (s = strstr(s, cmd)) != NULL; s += n)
    if ((s == o->scope || s[-1] == ' ') && (s[n] == ' ' || !s[n])) return true;
  return false;
}

void mlp_help_usage(FILE *out) {
  fputs("usage: mlpc COMMAND [OPTIONS] FILE...\n\n"
        "Compile declarative .mlp machine-learning pipelines to native programs.\n\nCommands:\n",
        out);
  for (int i = 0; i < NCOMMANDS; i++) {
    char head[160];
    snprintf(head, sizeof head, "%s %s", commands[i].name, commands[i].synopsis);
    put_entry(out, head, commands[i].what);
  }
  fputs("\nOptions (the commands they apply to in parentheses):\n", out);
  for (int i = 0; i < NOPTIONS; i++) {
    char text[512];
    if (*options[i].scope)
      snprintf(text, sizeof text, "(%s) %s", options[i].scope, options[i].what);
    else
      snprintf(text, sizeof text, "%s", options[i].what);
    put_entry(out, options[i].flags, text);
  }
  fputs("\nExit status: 0 success, 1 errors in a spec, 2 usage or I/O errors.\n"
        "Run 'mlpc help COMMAND' for one command, 'mlpc help data' (or any section or op\n"
        "name) for the language reference.\n",
        out);
}

int mlp_help_command(const char *name, FILE *out) {
  for (int i = 0; i < NCOMMANDS; i++) {
    if (strcmp(commands[i].name, name) != 0) continue;
    fprintf(out, "usage: mlpc %s %s\n\n", commands[i].name, commands[i].synopsis);
    put_indented(out, commands[i].what, 0, 0);
    fputs("\nOptions:\n", out);
    for (int k = 0; k < NOPTIONS; k++)
      if (in_scope(&options[k], name)) put_entry(out, options[k].flags, options[k].what);
    return 0;
  }
  return 1;
}

/* ---- files for the system: manual page, shell completion, editor syntax ------ */

/* Roff text: backslashes and leading dots or quotes escaped. */
static void roff(FILE *out, const char *s) {
  if (*s == '.' || *s == '\'') fputs("\\&", out);
  for (; *s; s++) {
    if (*s == '\\') fputs("\\e", out);
    else if (*s == '-') fputs("\\-", out);
    else fputc(*s, out);
  }
}

void mlp_help_man(FILE *out, const char *version) {
  fprintf(out, ".TH MLPC 1 \"\" \"mlpc %s\" \"User Commands\"\n", version);
  fputs(".SH NAME\nmlpc \\- compile declarative machine-learning pipelines to native programs\n"
        ".SH SYNOPSIS\n.B mlpc\n.I COMMAND\n[\\fIOPTIONS\\fR] \\fIFILE\\fR...\n"
        ".SH DESCRIPTION\nA \\fB.mlp\\fR file walks the eight steps of a training pipeline: data, model,\n"
        "hyperparameters, environment, validation, tuning, analysis and deployment.\n"
        "\\fBmlpc\\fR checks it, compiles it into a native training program, and compiles\n"
        "a trained run into a standalone predictor, an ONNX model or a registry entry.\n"
        "\\fBmlpc help\\fR \\fITOPIC\\fR documents the language.\n.SH COMMANDS\n",
        out);
  for (int i = 0; i < NCOMMANDS; i++) {
    fputs(".TP\n\\fB", out);
    roff(out, commands[i].name);
    fputs("\\fR ", out);
    roff(out, commands[i].synopsis);
    fputc('\n', out);
    roff(out, commands[i].what);
  }
  fputs(".SH OPTIONS\n", out);
  for (int i = 0; i < NOPTIONS; i++) {
    fputs(".TP\n\\fB", out);
    roff(out, options[i].flags);
    fputs("\\fR\n", out);
    if (*options[i].scope) {
      fputc('(', out);
      roff(out, options[i].scope);
      fputs(") ", out);
    }
    roff(out, options[i].what);
  }
  fputs(".SH EXIT STATUS\n0 success, 1 errors in a spec, 2 usage or I/O errors.\n"
        ".SH SEE ALSO\nThe language reference: \\fBmlpc help\\fR, and SPEC.md beside the sources.\n",
        out);
}

/* The kinds of words of the language, in registry order. */
enum {
  WORD_SECTIONS = 1,   /* sections (blocks) */
  WORD_STATEMENTS = 2, /* their statements */
  WORD_OPS = 4,
  WORD_FIELDS = 8,     /* setting and parameter names */
  WORD_VALUES = 16,    /* enumerated values */
  WORD_ALL = 31
};

/* Every word of the kinds asked for, in registry order. */
static void each_word(int kinds, void (*put)(void *ctx, const char *word), void *ctx) {
  const MlpRegistry *R = mlp_registry();
  for (int i = 1; kinds & WORD_SECTIONS && i < R->nblocks; i++) put(ctx, R->blocks[i]->name);
  for (int i = 0; kinds & WORD_STATEMENTS && i < R->ndefs; i++) put(ctx, R->defs[i].keyword);
  for (int i = 0; kinds & WORD_OPS && i < R->nops; i++) put(ctx, R->ops[i]->name);
  for (int i = 0; kinds & WORD_FIELDS && i < R->nfields; i++) put(ctx, R->fields[i]->name);
  for (int i = 0; kinds & WORD_VALUES && i < R->nenums; i++)
    for (int j = 0; j < R->enums[i]->nvalues; j++) put(ctx, R->enums[i]->values[j]);
}

typedef struct {
  FILE *out;
  const char *sep;
  const char **seen; /* words written so far (and words to leave out) */
  int n, cap;
  int written;
  bool owned; /* seen is malloc'd */
} Words;

/* A word once, words made of letters, digits and '_' only. */
static void put_word(void *ctx, const char *w) {
  Words *ws = ctx;
  if (!*w || strcmp(w, "*") == 0) return;
  for (const char *p = w; *p; p++)
    if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
      return;
  for (int i = 0; i < ws->n; i++)
    if (strcmp(ws->seen[i], w) == 0) return;
  if (ws->n == ws->cap) { /* the first growth copies words seeded in static storage */
    const char **grown = mlp_xmalloc((size_t)(ws->cap = 2 * ws->cap + 256) * sizeof *grown);
    if (ws->n) memcpy(grown, ws->seen, (size_t)ws->n * sizeof *grown);
    if (ws->owned) free(ws->seen);
    ws->seen = grown;
    ws->owned = true;
  }
  fprintf(ws->out, "%s%s", ws->written++ ? ws->sep : "", w);
  ws->seen[ws->n++] = w;
}

void mlp_help_vim(FILE *out) {
  fputs("\" Vim syntax for mlpc pipeline specs (.mlp), generated by `mlpc help --vim`.\n"
        "if exists('b:current_syntax') | finish | endif\n"
        "syntax keyword mlpPipeline pipeline recipe\n"
        "syntax keyword mlpWord ",
        out);
  static const char *pipeline_words[] = {"pipeline", "recipe"}; /* highlighted apart */
  Words ws = {out, " ", pipeline_words, 2, 2, 0, false};
  each_word(WORD_ALL, put_word, &ws);
  if (ws.owned) free(ws.seen);
  fputs("\nsyntax keyword mlpBool true false\n"
        "syntax match mlpNumber /\\<\\d\\+\\(\\.\\d*\\)\\=\\([eE][-+]\\=\\d\\+\\)\\=\\>/\n"
        "syntax region mlpString start=/\"/ skip=/\\\\\"/ end=/\"/\n"
        "syntax match mlpComment /#.*$/\n"
        "highlight default link mlpPipeline Statement\n"
        "highlight default link mlpWord Identifier\n"
        "highlight default link mlpBool Boolean\n"
        "highlight default link mlpNumber Number\n"
        "highlight default link mlpString String\n"
        "highlight default link mlpComment Comment\n"
        "let b:current_syntax = 'mlp'\n",
        out);
}

/* A JSON string of a TextMate regular expression: "\\b(?:W1|W2|...)\\b"
 * over the words of kinds not written before (ws->seen). */
static void tm_words(Words *ws, int kinds) {
  fputs("\"\\\\b(?:", ws->out);
  ws->written = 0;
  each_word(kinds, put_word, ws);
  fputs(")\\\\b\"", ws->out);
}

void mlp_help_textmate(FILE *out) {
  /* The words by kind, each once (the first kind it has): sections and
   * statements are keywords, ops functions, settings and parameters
   * variables, enumerated values constants. */
  static const struct {
    const char *key, *scope;
    int kinds;
  } kinds[] = {{"keywords", "keyword.other.mlp", WORD_SECTIONS | WORD_STATEMENTS},
               {"ops", "support.function.mlp", WORD_OPS},
               {"settings", "variable.parameter.mlp", WORD_FIELDS},
               {"values", "constant.language.mlp", WORD_VALUES}};
  fputs("{\n"
        "  \"$comment\": \"TextMate and VS Code grammar of mlpc pipeline specs (.mlp), generated by "
        "`mlpc help --textmate`.\",\n"
        "  \"name\": \"mlp\",\n"
        "  \"scopeName\": \"source.mlp\",\n"
        "  \"fileTypes\": [\"mlp\"],\n"
        "  \"patterns\": [\n"
        "    {\"include\": \"#comment\"}, {\"include\": \"#string\"}, {\"include\": \"#number\"},\n"
        "    {\"include\": \"#pipeline\"}, {\"include\": \"#boolean\"}",
        out);
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    fprintf(out, ", {\"include\": \"#%s\"}", kinds[i].key);
  fputs("\n  ],\n"
        "  \"repository\": {\n"
        "    \"comment\": {\"name\": \"comment.line.number-sign.mlp\", \"match\": \"#.*$\"},\n"
        "    \"string\": {\"name\": \"string.quoted.double.mlp\", \"begin\": \"\\\"\", \"end\": \"\\\"\",\n"
        "      \"patterns\": [{\"name\": \"constant.character.escape.mlp\", \"match\": \"\\\\\\\\.\"}]},\n"
        "    \"number\": {\"name\": \"constant.numeric.mlp\",\n"
        "      \"match\": \"\\\\b[0-9]+(?:\\\\.[0-9]*)?(?:[eE][-+]?[0-9]+)?\\\\b\"},\n"
        "    \"pipeline\": {\"name\": \"keyword.control.mlp\",\n"
        "      \"match\": \"\\\\b(?:pipeline|recipe)\\\\b\"},\n"
        "    \"boolean\": {\"name\": \"constant.language.boolean.mlp\",\n"
        "      \"match\": \"\\\\b(?:true|false)\\\\b\"}",
        out);
  static const char *taken[] = {"pipeline", "recipe", "true", "false"}; /* matched apart */
  Words ws = {out, "|", taken, 4, 4, 0, false};
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    fprintf(out, ",\n    \"%s\": {\"name\": \"%s\",\n      \"match\": ", kinds[i].key, kinds[i].scope);
    tm_words(&ws, kinds[i].kinds);
    fputc('}', out);
  }
  if (ws.owned) free(ws.seen);
  fputs("\n  }\n}\n", out);
}

/* The words a shell completes after `mlpc CMD`: each flag of CMD's options
 * ("-o PATH" gives -o, "-h, --help" both, "--color=WHEN" gives "--color="),
 * each in `quote`, a space between; for help, its formats and every word
 * of the language too. */
static void put_completions(FILE *out, const char *cmd, const char *quote) {
  int n = 0;
  for (int k = 0; k < NOPTIONS; k++) {
    if (!in_scope(&options[k], cmd) || options[k].flags[0] != '-') continue;
    char flags[160];
    snprintf(flags, sizeof flags, "%s", options[k].flags);
    for (char *tok = strtok(flags, ", "); tok; tok = strtok(NULL, ", ")) {
      char *eq = strchr(tok, '=');
      if (eq) eq[1] = 0;
      if (tok[0] == '-') fprintf(out, "%s%s%s%s", n++ ? " " : "", quote, tok, quote);
    }
  }
  if (strcmp(cmd, "help") != 0) return;
  static const char *const formats[] = {"--spec", "--man", "--man-spec", "--vim", "--textmate",
                                        "--bash-completion", "--zsh-completion"};
  for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
    fprintf(out, "%s%s", n++ ? " " : "", formats[i]);
  Words ws = {out, " ", NULL, 0, 0, 0, false};
  fputc(' ', out);
  each_word(WORD_ALL, put_word, &ws);
  free(ws.seen);
}

void mlp_help_bash_completion(FILE *out) {
  fputs("# bash completion for mlpc, generated by `mlpc help --bash-completion`.\n"
        "_mlpc() {\n"
        "  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]}\n"
        "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
        "    COMPREPLY=($(compgen -W \"",
        out);
  for (int i = 0; i < NCOMMANDS; i++) fprintf(out, "%s%s", i ? " " : "", commands[i].name);
  fputs(" --help --version\" -- \"$cur\"))\n    return\n  fi\n  local words\n  case $cmd in\n", out);
  for (int i = 0; i < NCOMMANDS; i++) {
    fprintf(out, "    %s) words=\"", commands[i].name);
    put_completions(out, commands[i].name, "");
    fputs("\";;\n", out);
  }
  fputs("  esac\n"
        "  case $cur in\n"
        "    -*|'') COMPREPLY=($(compgen -W \"$words\" -- \"$cur\")) ;;\n"
        "  esac\n"
        "  [ ${#COMPREPLY[@]} -eq 0 ] && [ \"$cmd\" != help ] && COMPREPLY=($(compgen -f -- \"$cur\"))\n"
        "  [ \"$cmd\" = help ] && COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
        "  return 0\n"
        "}\n"
        "complete -o filenames -F _mlpc mlpc\n",
        out);
}

/* One setting or parameter as a roff paragraph: name, type, default,
 * range and status, then what it does. */
static void man_field(FILE *out, const MlpRegField *f, bool param) {
  char ty[96], def[80], rng[96];
  fputs(".TP\n", out);
  fprintf(out, "%s\\fB", param ? "\\ \\ " : "");
  roff(out, f->name);
  fputs("\\fR ", out);
  roff(out, type_short(f, ty, sizeof ty));
  fputs(", default ", out);
  roff(out, default_text(f, def, sizeof def));
  if (*range_text(f, rng, sizeof rng)) {
    fputs(", ", out);
    roff(out, rng);
  }
  fprintf(out, " (%s)\n", mlp_reg_status(f->planned));
  roff(out, f->doc);
  fputc('\n', out);
}

static void man_block(FILE *out, const MlpRegBlock *b, const char *prefix) {
  fprintf(out, ".SS %s%s%s\n", prefix, b->name, b->required ? " (required)" : "");
  roff(out, b->doc);
  fputs(".\n", out);
  for (int i = 0; i < b->nsettings; i++) man_field(out, b->settings[i], false);
  for (int i = 0; i < b->nops; i++) {
    const MlpRegOp *op = b->ops[i];
    fputs(".TP\n\\fB", out);
    roff(out, op->name);
    fprintf(out, "\\fR(...) (%s)\n", mlp_reg_status(op->planned));
    roff(out, op->doc);
    fputc('\n', out);
    for (int j = 0; j < op->nparams; j++) man_field(out, op->params[j], true);
  }
  for (int i = 0; i < b->nblocks; i++) {
    char sub[64];
    snprintf(sub, sizeof sub, "%s%s.", prefix, b->name);
    man_block(out, b->blocks[i], sub);
  }
}

void mlp_help_man_spec(FILE *out, const char *version) {
  const MlpRegistry *R = mlp_registry();
  fprintf(out, ".TH MLPC-SPEC 5 \"\" \"mlpc %s\" \"File Formats\"\n", version);
  fputs(".SH NAME\nmlpc-spec \\- the .mlp pipeline language of mlpc\n"
        ".SH DESCRIPTION\nA spec is one \\fBpipeline\\fR NAME { ... } whose sections follow the eight\n"
        "steps of a training pipeline. Each section holds settings (\\fIname\\fR = value) and\n"
        "statements (\\fIop\\fR(arguments)). Every op, setting and parameter is \\fIbuilt\\fR or\n"
        "\\fIplanned\\fR: \\fBmlpc build\\fR refuses a planned one where a spec writes it.\n"
        "This page lists them all, from the table mlpc checks specs with.\n"
        ".SH SECTIONS\n",
        out);
  for (int i = 0; i < R->pipeline->nblocks; i++) man_block(out, R->pipeline->blocks[i], "");
  fputs(".SH VALUES\n", out);
  for (int i = 0; i < R->nkinds; i++) {
    const MlpRegKind *k = R->kinds[i];
    fputs(".SS ", out);
    roff(out, k->name);
    fputc('\n', out);
    roff(out, k->doc);
    fputs(": a call, or a bare name for the op with its defaults.\n", out);
    for (int j = 0; j < k->nops; j++) {
      fputs(".TP\n\\fB", out);
      roff(out, k->ops[j]->name);
      fprintf(out, "\\fR (%s)\n", mlp_reg_status(k->ops[j]->planned));
      roff(out, k->ops[j]->doc);
      fputc('\n', out);
      for (int p = 0; p < k->ops[j]->nparams; p++) man_field(out, k->ops[j]->params[p], true);
    }
  }
  fputs(".SH ENUMERATIONS\n", out);
  for (int i = 0; i < R->nenums; i++) {
    const MlpRegEnum *e = R->enums[i];
    fputs(".TP\n\\fB", out);
    roff(out, e->name);
    fputs("\\fR\n", out);
    for (int j = 0; j < e->nvalues; j++) {
      fputs(j ? ", " : "", out);
      roff(out, e->values[j]);
    }
    fputs(": ", out);
    roff(out, e->doc);
    fputc('\n', out);
  }
  fputs(".SH SEE ALSO\n\\fBmlpc\\fR(1), \\fBmlpc help\\fR \\fITOPIC\\fR\n", out);
}

void mlp_help_zsh_completion(FILE *out) {
  fputs("#compdef mlpc\n# zsh completion for mlpc, generated by `mlpc help --zsh-completion`.\n"
        "local cur=${words[CURRENT]} cmd=${words[2]}\n"
        "if (( CURRENT == 2 )); then\n  compadd --",
        out);
  for (int i = 0; i < NCOMMANDS; i++) fprintf(out, " %s", commands[i].name);
  fputs(" --help --version\n  return\nfi\nlocal -a words_of\ncase $cmd in\n", out);
  for (int i = 0; i < NCOMMANDS; i++) {
    fprintf(out, "  %s) words_of=(", commands[i].name);
    put_completions(out, commands[i].name, "'");
    fputs(") ;;\n", out);
  }
  fputs("esac\n"
        "if [[ $cmd == help || $cur == -* ]]; then\n"
        "  compadd -- $words_of\n"
        "else\n"
        "  _files\n"
        "fi\n",
        out);
}
