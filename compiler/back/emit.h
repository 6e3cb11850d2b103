/* emit.h — LLVM module → object file → linked executable.
 *
 * Verifies the module, sets the target (the host CPU by default, or an
 * explicit triple and CPU), runs the new pass manager's default<On>
 * pipeline, writes a position-independent object (or textual .ll), and
 * links it with the runtime by invoking the system cc (or, for another
 * target, its cross gcc with the runtime built for it). */
#ifndef MLP_EMIT_H
#define MLP_EMIT_H

#include <llvm-c/Core.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
  int opt;            /* 0..3: default<O0>..default<O3> */
  const char *triple; /* NULL: the host */
  const char *cpu;    /* NULL: the host CPU (with its features) when triple is NULL, else "generic" */
} MlpEmitOpts;

/* Verify, configure for the target and optimise m in place; then write an
 * object file (ll_path NULL) or textual IR. 0, or -1 with a message in
 * err (n bytes). */
/* The CPU name code is generated for under o (the host's, a given one, or
 * "generic" for a cross target), in buf (n bytes). */
const char *mlp_emit_cpu(const MlpEmitOpts *o, char *buf, size_t n);

int mlp_emit_optimize(LLVMModuleRef m, const MlpEmitOpts *o, char *err, size_t n);
int mlp_emit_object(LLVMModuleRef m, const MlpEmitOpts *o, const char *obj_path, char *err, size_t n);
int mlp_emit_ll(LLVMModuleRef m, const char *ll_path, char *err, size_t n);

/* Where the runtime lives, found from the running compiler's own path: the
 * build tree (DIR/mlpc next to DIR/libmlprt.a) or an installed prefix
 * (PREFIX/bin/mlpc, PREFIX/lib/libmlprt.a). 0 and the library path in lib,
 * or -1 with a message. */
int mlp_emit_find_runtime(char *lib, size_t n, char *err, size_t en);

/* The runtime built for another target (make cross): ARCH/libmlprt.a,
 * ARCH being the triple's first component, beside the host's runtime
 * (build/aarch64/libmlprt.a, PREFIX/lib/aarch64/libmlprt.a). 0 and its
 * path in lib, or -1 with a message. */
int mlp_emit_find_target_runtime(const char *triple, char *lib, size_t n, char *err, size_t en);

/* cc OBJ LIB -o EXE with the runtime's libraries, the SQL clients' among
 * them (a training program's link). With mpi (environment.distributed =
 * mpi), mpicc links libmlpmpi.a from beside LIB too; a runtime built
 * without Open MPI has none, and the link is refused. 0, or -1 with a
 * message. */
int mlp_emit_link(const char *obj_path, const char *lib_path, const char *exe_path, bool mpi, char *err,
                  size_t n);
/* libmlpmpi.a beside the runtime lib_path, into mpi_lib (n bytes): 0, or
 * -1 with a message saying how to get it. */
int mlp_emit_find_mpi(const char *lib_path, char *mpi_lib, size_t n, char *err, size_t en);
/* A predictor's link: the host's cc (triple NULL) or TRIPLE-gcc
 * (aarch64-linux-gnu-gcc) with the runtime for the triple, keeping only
 * what the predictor reaches and linking nothing but libc and libm. */
int mlp_emit_link_predictor(const char *triple, const char *obj_path, const char *lib_path,
                            const char *exe_path, char *err, size_t n);

#endif
