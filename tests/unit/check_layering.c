/* check_layering.c — the dependency rules of the two trees, checked on what
 * was built and on what the sources include.
 *
 * The runtime is six layers: core (memory, randomness, threads, failure
 * reporting, files and hashing) under everything; kernels (layers, losses,
 * optimizers, schedules, metrics) and data (loaders, cleaning) each on core
 * only; report (report.html and runs compared, from a run's records) on
 * core and kernels; train on all four; predict on core, data and kernels,
 * never on train.
 * A layer's objects may only reference symbols that its own layer or a
 * layer below defines (nm of the objects under MLP_BUILD).
 *
 * The compiler is four folders: front (arena, diagnostics, AST, parser),
 * middle (registry, sema, lowering, IR), back (training and predictor code
 * generation, ONNX, emission) and tools (export, deploy, fmt, help). A file
 * includes headers of its own folder or of the folders before it; tools may
 * use every one. And the compiler never runs the trainer: no compiler
 * object references a symbol that runtime/train defines. */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

enum { MAX_SYMS = 8192 };

typedef struct {
  char *name;
  int layer;
} Sym;

static const char *const rt_layers[] = {"core", "kernels", "data", "train", "predict", "report"};
enum { RT_CORE, RT_KERNELS, RT_DATA, RT_TRAIN, RT_PREDICT, RT_REPORT, RT_NLAYERS };

/* allowed[a][b]: layer a may reference layer b */
static const int rt_allowed[RT_NLAYERS][RT_NLAYERS] = {
    [RT_CORE] = {[RT_CORE] = 1},
    [RT_KERNELS] = {[RT_CORE] = 1, [RT_KERNELS] = 1},
    [RT_DATA] = {[RT_CORE] = 1, [RT_DATA] = 1},
    [RT_TRAIN] = {[RT_CORE] = 1, [RT_KERNELS] = 1, [RT_DATA] = 1, [RT_TRAIN] = 1, [RT_REPORT] = 1},
    [RT_PREDICT] = {[RT_CORE] = 1, [RT_KERNELS] = 1, [RT_DATA] = 1, [RT_PREDICT] = 1},
    [RT_REPORT] = {[RT_CORE] = 1, [RT_KERNELS] = 1, [RT_REPORT] = 1},
};

static Sym syms[MAX_SYMS];
static int nsyms;

static const char *build_dir(void) {
  const char *b = getenv("MLP_BUILD");
  return b && *b ? b : "build";
}

/* Each line of `nm FLAGS` over every object below dir, to fn. */
static void nm_each(const char *dir, const char *flags, void (*fn)(const char *sym, void *ctx), void *ctx) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "find '%s' -name '*.o' -print0 | xargs -0 -r nm %s 2>/dev/null", dir, flags);
  FILE *p = popen(cmd, "r");
  ck_assert_msg(p != NULL, "cannot run nm");
  char line[1024];
  while (fgets(line, sizeof line, p)) {
    char *sym = strrchr(line, ' ');
    sym = sym ? sym + 1 : line;
    sym[strcspn(sym, "\n")] = 0;
    if (*sym && strchr(line, ':') == NULL) fn(sym, ctx);
  }
  pclose(p);
}

static void add_def(const char *sym, void *ctx) {
  if (nsyms < MAX_SYMS) syms[nsyms++] = (Sym){strdup(sym), *(int *)ctx};
}

static int layer_of(const char *sym) {
  for (int i = 0; i < nsyms; i++)
    if (strcmp(syms[i].name, sym) == 0) return syms[i].layer;
  return -1;
}

static void load_defs(void) {
  if (nsyms) return;
  for (int l = 0; l < RT_NLAYERS; l++) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/runtime/%s", build_dir(), rt_layers[l]);
    nm_each(dir, "--defined-only -g", add_def, &l);
  }
  ck_assert_msg(nsyms > 100, "no runtime objects under %s/runtime (build first)", build_dir());
}

typedef struct {
  int layer;
  char bad[4096];
  int nbad;
} Refs;

static void check_ref(const char *sym, void *ctx) {
  Refs *r = ctx;
  int to = layer_of(sym);
  if (to < 0 || rt_allowed[r->layer][to]) return;
  if (r->nbad++ < 12) {
    size_t len = strlen(r->bad);
    snprintf(r->bad + len, sizeof r->bad - len, "\n  %s -> %s: %s", rt_layers[r->layer], rt_layers[to], sym);
  }
}

START_TEST(runtime_layers_reference_only_below) {
  load_defs();
  for (int l = 0; l < RT_NLAYERS; l++) {
    Refs r = {.layer = l};
    char dir[512];
    snprintf(dir, sizeof dir, "%s/runtime/%s", build_dir(), rt_layers[l]);
    nm_each(dir, "-u", check_ref, &r);
    ck_assert_msg(r.nbad == 0, "runtime/%s reaches a layer it must not (%d references):%s", rt_layers[l],
                  r.nbad, r.bad);
  }
}
END_TEST

/* Every runtime source sits in one of the six layers. */
START_TEST(runtime_sources_are_layered) {
  DIR *d = opendir("runtime");
  ck_assert(d != NULL);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    bool known = false;
    for (int l = 0; l < RT_NLAYERS; l++) known |= strcmp(e->d_name, rt_layers[l]) == 0;
    ck_assert_msg(known, "runtime/%s is not one of the runtime's layers", e->d_name);
  }
  closedir(d);
}
END_TEST

static void check_trainer_ref(const char *sym, void *ctx) {
  Refs *r = ctx;
  if (layer_of(sym) != RT_TRAIN || r->nbad++ >= 12) return;
  size_t len = strlen(r->bad);
  snprintf(r->bad + len, sizeof r->bad - len, "\n  %s", sym);
}

START_TEST(compiler_never_runs_the_trainer) {
  load_defs();
  Refs r = {.layer = -1};
  char dir[512];
  snprintf(dir, sizeof dir, "%s/compiler", build_dir());
  nm_each(dir, "-u", check_trainer_ref, &r);
  ck_assert_msg(r.nbad == 0, "the compiler references the trainer (%d):%s", r.nbad, r.bad);
}
END_TEST

/* ---- the compiler's folders, by their includes ---------------------------- */

static const char *const cc_layers[] = {"front", "middle", "back", "tools"};
enum { CC_NLAYERS = 4 };

/* The folder of compiler/ holding header h, or -1 (a runtime or system one). */
static int cc_layer_of(const char *h) {
  for (int l = 0; l < CC_NLAYERS; l++) {
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "compiler/%s/%s", cc_layers[l], h);
    if (stat(path, &st) == 0) return l;
  }
  return -1;
}

START_TEST(compiler_folders_include_only_before) {
  char bad[4096] = "";
  int nbad = 0, nfiles = 0;
  for (int l = 0; l < CC_NLAYERS; l++) {
    char dir[256];
    snprintf(dir, sizeof dir, "compiler/%s", cc_layers[l]);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "no %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
      size_t n = strlen(e->d_name);
      if (n < 3 || e->d_name[n - 2] != '.' || (e->d_name[n - 1] != 'c' && e->d_name[n - 1] != 'h')) continue;
      char path[512];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      FILE *f = fopen(path, "r");
      ck_assert(f != NULL);
      nfiles++;
      char line[512];
      while (fgets(line, sizeof line, f)) {
        char inc[256];
        if (sscanf(line, " #include \"%255[^\"]\"", inc) != 1) continue;
        int to = cc_layer_of(inc);
        if (to > l && nbad++ < 12) {
          size_t len = strlen(bad);
          snprintf(bad + len, sizeof bad - len, "\n  %s includes %s (compiler/%s)", path, inc, cc_layers[to]);
        }
      }
      fclose(f);
    }
    closedir(d);
  }
  ck_assert(nfiles > 20);
  ck_assert_msg(nbad == 0, "a compiler folder includes a later one (%d):%s", nbad, bad);
}
END_TEST

Suite *layering_suite(void); /* the runner finds it by name */
Suite *layering_suite(void) {
  Suite *s = suite_create("layering");
  TCase *tc = tcase_create("rules");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, runtime_layers_reference_only_below);
  tcase_add_test(tc, runtime_sources_are_layered);
  tcase_add_test(tc, compiler_never_runs_the_trainer);
  tcase_add_test(tc, compiler_folders_include_only_before);
  suite_add_tcase(s, tc);
  return s;
}
