/* emit.c — verify, optimise, emit and link (see emit.h). Consumes an LLVM
 * module; produces an object file, textual IR or an executable. */
#include "emit.h"

#include <errno.h>
#include <limits.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mlp/run.h"

extern char **environ;

static int fail(char *err, size_t n, const char *what, char *llvm_msg) {
  snprintf(err, n, "%s%s%s", what, llvm_msg ? ": " : "", llvm_msg ? llvm_msg : "");
  if (llvm_msg) LLVMDisposeMessage(llvm_msg);
  return -1;
}

const char *mlp_emit_cpu(const MlpEmitOpts *o, char *buf, size_t n) {
  if (o->cpu || o->triple) {
    snprintf(buf, n, "%s", o->cpu ? o->cpu : "generic");
  } else {
    char *host = LLVMGetHostCPUName();
    snprintf(buf, n, "%s", host);
    LLVMDisposeMessage(host);
  }
  return buf;
}

/* The target machine for o, or NULL with a message. */
static LLVMTargetMachineRef target_machine(const MlpEmitOpts *o, char *err, size_t n) {
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
  if (o->triple) {
    /* Cross targets need their back end registered; all are linked in. */
    LLVMInitializeAllTargetInfos();
    LLVMInitializeAllTargets();
    LLVMInitializeAllTargetMCs();
    LLVMInitializeAllAsmPrinters();
  }
  char *triple = o->triple ? LLVMNormalizeTargetTriple(o->triple) : LLVMGetDefaultTargetTriple();
  LLVMTargetRef target;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
    LLVMDisposeMessage(triple);
    fail(err, n, "unknown target", msg);
    return NULL;
  }
  char cpu_name[128];
  mlp_emit_cpu(o, cpu_name, sizeof cpu_name);
  char *features = !o->cpu && !o->triple ? LLVMGetHostCPUFeatures() : NULL;
  LLVMCodeGenOptLevel lvl = o->opt <= 0   ? LLVMCodeGenLevelNone
                            : o->opt == 1 ? LLVMCodeGenLevelLess
                            : o->opt == 2 ? LLVMCodeGenLevelDefault
                                          : LLVMCodeGenLevelAggressive;
  /* PIC: Debian's cc links position-independent executables by default. */
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, triple, cpu_name, features ? features : "", lvl,
                                                    LLVMRelocPIC, LLVMCodeModelDefault);
  LLVMDisposeMessage(triple);
  if (features) LLVMDisposeMessage(features);
  if (!tm) snprintf(err, n, "cannot create a target machine for CPU '%s'", cpu_name);
  return tm;
}

int mlp_emit_optimize(LLVMModuleRef m, const MlpEmitOpts *o, char *err, size_t n) {
  char *msg = NULL;
  if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg))
    return fail(err, n, "invalid module (compiler bug)", msg);
  LLVMDisposeMessage(msg);
  LLVMTargetMachineRef tm = target_machine(o, err, n);
  if (!tm) return -1;
  /* Triple and data layout first: the passes' cost models read them. */
  char *triple = LLVMGetTargetMachineTriple(tm);
  LLVMSetTarget(m, triple);
  LLVMDisposeMessage(triple);
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
  char *layout = LLVMCopyStringRepOfTargetData(td);
  LLVMSetDataLayout(m, layout);
  LLVMDisposeMessage(layout);
  LLVMDisposeTargetData(td);
  char passes[32];
  snprintf(passes, sizeof passes, "default<O%d>", o->opt < 0 ? 0 : o->opt > 3 ? 3 : o->opt);
  LLVMPassBuilderOptionsRef pbo = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(pbo, o->opt >= 2);
  LLVMPassBuilderOptionsSetSLPVectorization(pbo, o->opt >= 2);
  LLVMErrorRef e = LLVMRunPasses(m, passes, tm, pbo);
  LLVMDisposePassBuilderOptions(pbo);
  LLVMDisposeTargetMachine(tm);
  if (e) return fail(err, n, "optimisation failed", LLVMGetErrorMessage(e));
  return 0;
}

/* Output is built in memory and written through a unique temporary name
 * with every write checked: a full disk gives an error and no partial file
 * (LLVM's own file streams abort the process on a failed write). */
static int write_out(const char *path, const void *data, size_t len, const char *what, char *err, size_t n) {
  if (mlprt_write_atomic(path, data, len, true) == 0) return 0;
  snprintf(err, n, "cannot write the %s '%s': %s", what, path, strerror(errno));
  return -1;
}

int mlp_emit_object(LLVMModuleRef m, const MlpEmitOpts *o, const char *obj_path, char *err, size_t n) {
  LLVMTargetMachineRef tm = target_machine(o, err, n);
  if (!tm) return -1;
  char *msg = NULL;
  LLVMMemoryBufferRef buf = NULL;
  int rc = LLVMTargetMachineEmitToMemoryBuffer(tm, m, LLVMObjectFile, &msg, &buf);
  LLVMDisposeTargetMachine(tm);
  if (rc) return fail(err, n, "cannot generate the object code", msg);
  rc = write_out(obj_path, LLVMGetBufferStart(buf), LLVMGetBufferSize(buf), "object file", err, n);
  LLVMDisposeMemoryBuffer(buf);
  return rc;
}

int mlp_emit_ll(LLVMModuleRef m, const char *ll_path, char *err, size_t n) {
  char *text = LLVMPrintModuleToString(m);
  int rc = write_out(ll_path, text, strlen(text), "LLVM IR", err, n);
  LLVMDisposeMessage(text);
  return rc;
}

int mlp_emit_find_runtime(char *lib, size_t n, char *err, size_t en) {
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) {
    snprintf(err, en, "cannot find the compiler's own path: %s", strerror(errno));
    return -1;
  }
  self[len] = 0;
  char *slash = strrchr(self, '/');
  *slash = 0;
  /* Build tree: build/mlpc beside build/libmlprt.a. */
  snprintf(lib, n, "%s/libmlprt.a", self);
  if (access(lib, R_OK) == 0) return 0;
  /* Installed: PREFIX/bin/mlpc and PREFIX/lib/libmlprt.a. */
  snprintf(lib, n, "%s/../lib/libmlprt.a", self);
  if (access(lib, R_OK) == 0) return 0;
  snprintf(err, en, "cannot find libmlprt.a beside '%s' or in '%s/../lib'", self, self);
  return -1;
}

/* A compiler built with sanitizers (make asan) sits beside a runtime built
 * with them, whose objects need the sanitizers' libraries to link. */
#ifdef __SANITIZE_ADDRESS__
#define SANITIZE "-fsanitize=address,undefined"
#else
#define SANITIZE NULL
#endif

int mlp_emit_find_target_runtime(const char *triple, char *lib, size_t n, char *err, size_t en) {
  if (mlp_emit_find_runtime(lib, n, err, en) != 0) return -1;
  size_t arch = strcspn(triple, "-");
  char *slash = strrchr(lib, '/');
  snprintf(slash + 1, n - (size_t)(slash + 1 - lib), "%.*s/libmlprt.a", (int)arch, triple);
  if (access(lib, R_OK) == 0) return 0;
  snprintf(err, en, "no runtime for %s at '%s' (make cross builds AArch64's)", triple, lib);
  return -1;
}

int mlp_emit_find_mpi(const char *lib_path, char *mpi_lib, size_t n, char *err, size_t en) {
  const char *slash = strrchr(lib_path, '/');
  snprintf(mpi_lib, n, "%.*slibmlpmpi.a", slash ? (int)(slash + 1 - lib_path) : 0, lib_path);
  if (access(mpi_lib, R_OK) == 0) return 0;
  snprintf(err, en,
           "environment.distributed = mpi needs the runtime's MPI support, '%s', which make builds when Open "
           "MPI's mpicc is installed (Debian: libopenmpi-dev, openmpi-bin)",
           mpi_lib);
  return -1;
}

/* Run the compiler driver argv[0] on argv, whose argv[2] is exe_path:
 * it links to a temporary name beside it, renamed when complete and
 * removed otherwise; into a device such as /dev/null directly, which a
 * rename would replace. 0 when exe_path is linked. */
static int run_cc(const char **argv, const char *exe_path, char *err, size_t n) {
  char tmp[PATH_MAX + 32];
  bool through = mlprt_path_is_special(exe_path);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", exe_path, (long)getpid());
  if (!through) argv[2] = tmp;
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ);
  argv[2] = exe_path;
  if (rc != 0) {
    snprintf(err, n, "cannot run %s: %s", argv[0], strerror(rc));
    return -1;
  }
  int st;
  if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    snprintf(err, n, "linking '%s' failed (%s exited with status %d)", exe_path, argv[0],
             WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    if (!through) unlink(tmp);
    return -1;
  }
  if (!through && rename(tmp, exe_path) != 0) {
    snprintf(err, n, "cannot write '%s': %s", exe_path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  return 0;
}

int mlp_emit_link(const char *obj_path, const char *lib_path, const char *exe_path, bool mpi, char *err,
                  size_t n) {
  /* A training program reads SQL sources too; predictors take rows. The
   * layer kernels reference OpenBLAS weakly (a predictor links without
   * it), so it is linked whatever the linker's --as-needed default. With
   * MPI, mpicc links the runtime's MPI support before the runtime. */
  char mpi_lib[PATH_MAX];
  if (mpi && mlp_emit_find_mpi(lib_path, mpi_lib, sizeof mpi_lib, err, n) != 0) return -1;
  const char *argv[24] = {mpi ? "mpicc" : "cc", "-o", exe_path, obj_path};
  int argc = 4;
  if (mpi) argv[argc++] = mpi_lib;
  static const char *const libs[] = {"-Wl,--push-state,--no-as-needed", "-lopenblas", "-Wl,--pop-state",
                                     "-lsqlite3", "-lpq", "-lcjson", "-lsodium", "-lz", "-lm", "-lpthread"};
  argv[argc++] = lib_path;
  for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) argv[argc++] = libs[i];
  argv[argc] = SANITIZE; /* NULL ends the list when there is none */
  return run_cc(argv, exe_path, err, n);
}

int mlp_emit_link_predictor(const char *triple, const char *obj_path, const char *lib_path,
                            const char *exe_path, char *err, size_t n) {
  /* Only what the predictor reaches is kept, without symbols. It needs
   * nothing but libc and libm where it runs: the layer kernels take the
   * runtime's own GEMM without OpenBLAS, JSON is scanned by the runtime,
   * and libsodium (--verify) and libmicrohttpd (--serve) are loaded when
   * asked for. */
  char cc[256];
  snprintf(cc, sizeof cc, "%s%s", triple ? triple : "", triple ? "-gcc" : "cc");
  const char *argv[] = {cc, "-o", exe_path, obj_path, lib_path, "-Wl,--gc-sections", "-s", "-lm",
                        triple ? NULL : SANITIZE, NULL};
  return run_cc(argv, exe_path, err, n);
}
