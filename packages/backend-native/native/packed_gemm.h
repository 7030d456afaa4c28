// Panel-packed weights for decoding's products: 16-column panels (the last one zero-padded), so a thread's share of
// the columns is one stretch of memory. The same chains as rows_gemm (each output one fused
// multiply-add chain over k in order, from 0), so bitwise its results.
#ifndef COPE_PACKED_GEMM_H
#define COPE_PACKED_GEMM_H
#include <stddef.h>
#include <stdint.h>

/*
 * Elements of a packed copy of a [k, n] weight: float32 panels [ceil(n/16)][k][16]; bf16 panels pair rows, [ceil(n/16)]
 * [ceil(k/2)][16][2] (rows kk and kk+1 of a column side by side, kk first; a last odd row is paired with 0).
 */
size_t packed_panels_size_f32(int64_t k, int64_t n);
size_t packed_panels_size_bf16(int64_t k, int64_t n);

/* wp = w [k, n] packed (float32, or bf16 bits). */
void pack_panels_f32(const float* w, float* wp, int64_t k, int64_t n);
void pack_panels_bf16(const uint16_t* w, uint16_t* wp, int64_t k, int64_t n);

/* Share `part` of `parts` of out [m, n] = x [m, k] · w: whole panels, the columns rows_gemm's share of m ≤ 2 rows takes. */
void packed_gemm_f32_share(const float* x, const float* wp, float* out, int64_t m, int64_t k, int64_t n, int part, int parts);
void packed_gemm_bf16_share(const float* x, const uint16_t* wp, float* out, int64_t m, int64_t k, int64_t n, int part, int parts);

#endif
