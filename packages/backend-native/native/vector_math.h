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
/* dst[i] = exp(src[i] - shift); the sum of the results in float64, by chunks of 1024 elements as the module adds them. */
double vm_exp_shift_sum(const float* src, float* dst, int64_t n, float shift);
/* a[i] = log(a[i]·scale + offset). */
void vm_log_affine(float* a, int64_t n, float scale, float offset);
/* dst[i] = src[i]·scale + offset. */
void vm_affine(const float* src, float* dst, int64_t n, float scale, float offset);
/* The sum of the elements >= threshold, in index order, in float64. */
double vm_sum_at_least(const float* src, int64_t n, float threshold);
/* Where src[i] >= threshold: dst[i] = float32(log(src[i]·scale + offset) - lam·sub[i]) (difference in float64). */
void vm_log_contrast_at_least(const float* src, const float* sub, float* dst, int64_t n, float threshold, float scale, float offset, double lam);

/*
 * Greedy decoding's step (@cope/decoding's argmaxLogSoftmax): *token = the first index of the largest element (0 when
 * none equals it: a NaN), and returns Σ exp(x[i] − max) as vm_exp_shift_sum sums it (NaN when the max is not finite),
 * on `threads` (whole chunks each).
 */
double vm_greedy_pick(const float* x, int64_t n, int64_t* token, int threads);

/* Contrastive scoring's settings, each as the JavaScript passes compute with it (float32 casts at the same places). */
typedef struct {
  double lam;       /* λ, the amateur's weight */
  float threshold;  /* plausibility, as float32 */
  double eps;       /* ε added to probabilities (1e-8) */
  double log_eps;   /* log ε as JavaScript's Math.log gives it */
  int masked_inf;   /* masked tokens score −∞ (else log ε − λ·log(p_amateur + ε)) */
} vm_contrast;

/*
 * CoPe's contrastive step (@cope/decoding's scores.ts): scores[0, n) from the expert's and amateur's logits, *token
 * their first argmax, and returns Σ exp(scores − scores[token]) (NaN when that score is not finite), the normaliser of
 * the greedy token's log-probability. Every element's operations and every sum's order are those of the passes above,
 * so the results are bitwise theirs, in five passes instead of eleven, on any number of `threads` (each takes whole
 * chunks of the sums: about the columns of the logits the head's product gave it). pE, pA: scratch of n; scores may
 * be pA (each score is written after its element of pA is read).
 */
double vm_contrastive_pick(const float* expert, const float* amateur, int64_t n, const vm_contrast* c, float* pE, float* pA, float* scores, int64_t* token, int threads);

#endif
