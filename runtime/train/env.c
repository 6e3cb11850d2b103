/* env.c — the machine a run trains on, for its manifest: the CPU's model
 * and instruction-set features, the CPU the program was compiled for, the
 * compiler and LLVM versions, the thread budget and OpenBLAS's build. */
#include <cblas.h>
#include <stdio.h>
#include <string.h>

#include "mlp/run.h"
#include "mlp/tensor.h"
#include "env.h"

/* The "model name" line of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t n) {
  snprintf(buf, n, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) != 0) continue;
    const char *v = strchr(line, ':');
    if (!v) break;
    v += v[1] == ' ' ? 2 : 1;
    snprintf(buf, n, "%.*s", (int)strcspn(v, "\n"), v);
    break;
  }
  fclose(f);
}

void mlprt_environment_json(cJSON *env, const MlprtProgram *p, int64_t threads) {
  char model[256];
  cpu_model(model, sizeof model);
  cJSON_AddStringToObject(env, "cpu", model);
  cJSON *feat = cJSON_AddArrayToObject(env, "cpu_features");
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  /* The vector extensions that decide kernel speed; each name is a literal
   * because __builtin_cpu_supports takes only constants. */
  if (__builtin_cpu_supports("sse4.2")) cJSON_AddItemToArray(feat, cJSON_CreateString("sse4.2"));
  if (__builtin_cpu_supports("avx")) cJSON_AddItemToArray(feat, cJSON_CreateString("avx"));
  if (__builtin_cpu_supports("avx2")) cJSON_AddItemToArray(feat, cJSON_CreateString("avx2"));
  if (__builtin_cpu_supports("fma")) cJSON_AddItemToArray(feat, cJSON_CreateString("fma"));
  if (__builtin_cpu_supports("avx512f")) cJSON_AddItemToArray(feat, cJSON_CreateString("avx512f"));
#endif
  cJSON_AddStringToObject(env, "compiled_for", p->target_cpu ? p->target_cpu : "unknown");
  cJSON_AddStringToObject(env, "compiler", p->compiler ? p->compiler : "unknown");
  cJSON_AddNumberToObject(env, "threads", (double)threads);
  cJSON_AddBoolToObject(env, "deterministic", mlprt_deterministic());
  cJSON *blas = cJSON_AddObjectToObject(env, "blas");
  cJSON_AddStringToObject(blas, "config", openblas_get_config());
  cJSON_AddStringToObject(blas, "core", openblas_get_corename());
  cJSON_AddNumberToObject(blas, "threads", mlprt_blas_threads());
  cJSON_AddNumberToObject(blas, "threads_asked", (double)p->blas_threads); /* environment.blas_threads */
  cJSON_AddBoolToObject(env, "monitor", p->monitor != 0);
}
