/* fpenv.h — the floating-point environment training and prediction run in.
 *
 * Subnormal floats (below 2^-126 in magnitude) take a slow microcode path
 * on x86 and some ARM cores: a hundred cycles an operation instead of
 * one. Trained weights, Adam's second moments and small gradients drift
 * into that range as training converges, and an epoch slows by a third.
 * Training programs and predictors therefore flush subnormal results to
 * zero and read subnormal inputs as zero (x86 MXCSR FTZ and DAZ; AArch64
 * FPCR.FZ), as PyTorch's torch.set_flush_denormal(True) does. Results
 * differ from IEEE gradual underflow only by values below 1.2e-38, and the
 * same inputs still give the same bits. The setting is per thread: the
 * calling thread's, inherited by the threads it starts afterwards (the
 * runtime's parallel loops); OpenBLAS's own pool keeps the default. */
#ifndef MLP_FPENV_H
#define MLP_FPENV_H

/* Flush subnormals to zero in the calling thread (and threads it starts). */
void mlprt_fp_flush_subnormals(void);

#endif
