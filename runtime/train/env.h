/* env.h — the machine a run trains on, as recorded in its manifest. */
#ifndef MLP_TRAIN_ENV_H
#define MLP_TRAIN_ENV_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "mlp/run.h"

/* Adds cpu, cpu_features, compiled_for, compiler, threads, deterministic
 * and blas {config, core, threads} to env. */
void mlprt_environment_json(cJSON *env, const MlprtProgram *p, int64_t threads);

#endif
