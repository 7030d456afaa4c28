// Row-invariant products out [m, n] = x [m, k] · w [k, n] (w row-major, float32 or bf16 bits).
// Every output element is one fused multiply-add chain over k in order, whatever m, the thread count or the
// blocking: a row's result never depends on the rows beside it (decoding batches, prompt caches).
#ifndef COPE_ROWS_GEMM_H
#define COPE_ROWS_GEMM_H
#include <stdint.h>

void rows_gemm_f32(const float* x, const float* w, float* out, int64_t m, int64_t k, int64_t n, int threads);
void rows_gemm_bf16(const float* x, const uint16_t* w, float* out, int64_t m, int64_t k, int64_t n, int threads);

/* Share `part` of `parts` of the same product (a range of whole column blocks), for callers running their own threads. */
void rows_gemm_f32_share(const float* x, const float* w, float* out, int64_t m, int64_t k, int64_t n, int part, int parts);
void rows_gemm_bf16_share(const float* x, const uint16_t* w, float* out, int64_t m, int64_t k, int64_t n, int part, int parts);

/* The columns [j0, j1) share `part` of `parts` of an [m, n] product writes. */
void rows_gemm_share_columns(int64_t m, int64_t n, int part, int parts, int64_t* j0, int64_t* j1);

#endif
