/* quant.h — compressed weights for generated predictors: symmetric int8
 * quantization with one scale per output channel, the int8 dense kernel a
 * quantized predictor's forward pass calls, and magnitude pruning. Consumes
 * float32 weights in the training slab's layout (dense weight (OC, C), as
 * in layers.h); produces int8 weights and float scales (export time) and
 * float outputs (prediction time).
 *
 * Quantization is symmetric (no zero point): a row's scale is max|w| / 127
 * and q = round(w / scale) lies in [-127, 127], so |w - q * scale| <= scale / 2
 * and the product of two quantized values fits an int16. The kernel
 * accumulates in int32, which bounds the input width: 127 * 127 * C must stay
 * below 2^31 (C <= MLPRT_QDENSE_MAX_C). */
#ifndef MLP_QUANT_H
#define MLP_QUANT_H

#include <stddef.h>
#include <stdint.h>

#define MLPRT_QDENSE_MAX_C 133144

/* Quantize w (rows, cols) row by row: q (rows, cols) and scale (rows). A row
 * of zeros gets scale 0 and q 0. */
void mlprt_quantize_rows(const float *w, int64_t rows, int64_t cols, int8_t *q, float *scale);

/* Bytes of scratch mlprt_qdense needs for an input width C: a block of
 * quantized input rows (four, multiplied together), rounded up to
 * MLPRT_ALIGN. */
size_t mlprt_qdense_scratch_bytes(int64_t C);

/* The functions of this header that generated code calls (mlp/abi.def). */
#define MLPRT_ABI_QUANT(ret, name, params) ret name params;
#include "mlp/abi.def"

/* Zero exactly floor(sparsity * n) of w's n values, those of smallest
 * magnitude; among equal magnitudes the lower index goes first, so the
 * result does not depend on the sort. sparsity is in [0, 1]; the product is
 * floored with a 1e-9 slack, so that a decimal sparsity such as 0.29 of 100
 * values (28.999... in binary) zeroes 29. Returns the number zeroed. */
int64_t mlprt_prune_magnitude(float *w, int64_t n, double sparsity);

#endif
