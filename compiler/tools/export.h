/* export.h — `mlpc export`: a trained run directory → a native predictor.
 *
 * mlp_export_build loads and verifies the run (rundir.h), generates the
 * predictor's module (predgen.h: the forward pass over constant weights,
 * the MlprtPredictor descriptor of include/mlp/predict.h and main),
 * optimises it for the target and writes what the options ask for:
 *
 *   an executable (default)   linked with the runtime, sections garbage-
 *                             collected and symbols stripped (for another
 *                             target by TRIPLE-gcc with that target's
 *                             runtime, emit.h);
 *   --emit-obj                PATH.o plus PATH.h, a C header declaring
 *                             NAME_predict and the model's facts, for
 *                             programs that embed the predictor;
 *   --emit-llvm               textual LLVM IR.
 *
 * Compression (--quantize int8, --prune SPARSITY) changes the weights that
 * are compiled in; the descriptor's weight digest is then that of the
 * compressed weights. */
#ifndef MLP_EXPORT_H
#define MLP_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "ir.h"

typedef struct {
  const char *run_dir; /* the trained run directory */
  /* The output: the executable; with emit_obj the base of PATH.o and PATH.h
   * (a trailing ".o" is dropped); with emit_llvm the .ll file. NULL:
   * deploy.predictor, else the pipeline's name (+ ".ll" for emit_llvm). */
  const char *out;
  const char *name;    /* C prefix of --emit-obj's symbols; NULL: deploy.predictor, else the pipeline's */
  int opt;             /* 0..3 (-O0..-O3) */
  const char *triple;  /* NULL: the host */
  const char *cpu;     /* NULL: the spec's deploy.cpu, else x86-64-v2 */
  bool emit_obj, emit_llvm;
  MlpQuant quantize;
  double prune; /* fraction of each weight matrix zeroed, smallest magnitudes first; 0: none */
  bool force;   /* replace an existing file at the default name (out NULL); a named out is always replaced */
  bool announce; /* print "wrote PATH (N bytes)" for each file written */
} MlpExportOpts;

/* Options with their defaults: -O2, no compression. */
void mlp_export_opts_init(MlpExportOpts *o, const char *run_dir);

/* Build the predictor o describes. 0, or -1 with a message in err (n
 * bytes): an unreadable or tampered run directory, a cleaning chain the
 * predictor cannot replay row by row, a failing link. On success *bytes
 * (when not NULL) receives the size of the file written. */
int mlp_export_build(const MlpExportOpts *o, long *bytes, char *err, size_t n);

#endif
