// The decoding scores' passes over the vocabulary (@cope/decoding's src/kernels/vector-math.wat) in AVX-512: the same
// float32 operations in the same order, the float64 sums in the same lane order, so bitwise that module's results.
// n counts elements and is a multiple of 8 (the module's block); arrays may alias where the module's may.
#ifndef COPE_VECTOR_MATH_H
#define COPE_VECTOR_MATH_H
#include <stdint.h>

/* Whether this build has the kernels (AVX-512); without, callers keep the WebAssembly module. */
int vector_math_available(void);
/* The largest element (NaN if any is NaN; -inf when n is 0). */
float vm_max(const float* a, int64_t n);
/* dst[i] = exp(src[i] - shift); the sum of the results in float64. */
double vm_exp_shift_sum(const float* src, float* dst, int64_t n, float shift);
/* a[i] = log(a[i]·scale + offset). */
void vm_log_affine(float* a, int64_t n, float scale, float offset);
/* dst[i] = src[i]·scale + offset. */
void vm_affine(const float* src, float* dst, int64_t n, float scale, float offset);
/* The sum of the elements >= threshold, in index order, in float64. */
double vm_sum_at_least(const float* src, int64_t n, float threshold);
/* Where src[i] >= threshold: dst[i] = float32(log(src[i]·scale + offset) - lam·sub[i]) (difference in float64). */
void vm_log_contrast_at_least(const float* src, const float* sub, float* dst, int64_t n, float threshold, float scale, float offset, double lam);

#endif
