// See vector_math.h. Each function mirrors its WebAssembly twin operation for operation: f32x4 pmin/pmax are
// max/min with the constant first (a NaN lane passes through), mul and add round separately (no fused multiply-add),
// and a 16-lane vector is the module's two loop iterations of eight, taken in order.
#include "vector_math.h"
#include <math.h>
#include "vector_exp.h"

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>

int vector_math_available(void) { return 1; }

#define SPLAT(x) _mm512_set1_ps(x)

float vm_max(const float* a, int64_t n) {
  // Lanes 0-3 and 4-7 of each eight are the module's m0 and m1; the two halves of a 16-lane vector are two iterations.
  __m512 m = SPLAT(-INFINITY);
  __mmask16 nan = 0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(a + i);
    m = _mm512_max_ps(x, m);
    nan |= _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  }
  __m256 m8 = _mm256_max_ps(_mm512_extractf32x8_ps(m, 1), _mm512_castps512_ps256(m));
  if (i < n) {
    const __m256 x = _mm256_loadu_ps(a + i);
    m8 = _mm256_max_ps(x, m8);
    nan |= (__mmask16)_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  }
  if (nan) return NAN;
  // m0 = pmax(m0, m1), then max of lanes (0, 1) and (2, 3): no NaN is left, so plain comparisons.
  float l[8];
  _mm256_storeu_ps(l, m8);
  float v[4];
  for (int j = 0; j < 4; j++) v[j] = l[j] < l[j + 4] ? l[j + 4] : l[j];
  const float a01 = fmaxf(v[0], v[1]), a23 = fmaxf(v[2], v[3]);
  return fmaxf(a01, a23);
}

/* The module's sum step for eight results: lanes i and i+4 added in float32, then into the four float64 accumulators. */
static inline __m256d add_eight(__m256d acc, __m256 p) {
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(p), _mm256_extractf128_ps(p, 1));
  return _mm256_add_pd(acc, _mm256_cvtps_pd(q));
}

/* The module's final sum of its accumulators: (q0 + q2) + (q1 + q3). */
static inline double total(__m256d acc) {
  double a[4];
  _mm256_storeu_pd(a, acc);
  const double s0 = a[0] + a[2], s1 = a[1] + a[3];
  return s0 + s1;
}

/* vm_exp_shift_sum; dst NULL sums without storing. */
static inline double exp_shift_sum(const float* src, float* dst, int64_t n, float shift) {
  __m256d acc = _mm256_setzero_pd();
  const __m512 sh = SPLAT(shift);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    const __m512 p = exp_vec(_mm512_sub_ps(_mm512_maskz_loadu_ps(mk, src + i), sh));
    if (dst) _mm512_mask_storeu_ps(dst + i, mk, p);
    acc = add_eight(acc, _mm512_castps512_ps256(p));
    if (mk == 0xFFFF) acc = add_eight(acc, _mm512_extractf32x8_ps(p, 1));
  }
  return total(acc);
}

double vm_exp_shift_sum(const float* src, float* dst, int64_t n, float shift) { return exp_shift_sum(src, dst, n, shift); }

/* log(x) of one vector as the module's $log2 computes it (for positive normal x). */
static inline __m512 log_vec(__m512 m) {
  __m512i e = _mm512_sub_epi32(_mm512_srli_epi32(_mm512_castps_si512(m), 23), _mm512_set1_epi32(127));
  m = _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(m), _mm512_set1_epi32(0x007FFFFF)), _mm512_set1_epi32(0x3F800000)));
  const __mmask16 big = _mm512_cmp_ps_mask(m, SPLAT(1.41421356f), _CMP_GT_OQ);
  m = _mm512_mask_mul_ps(m, big, m, SPLAT(0.5f));
  e = _mm512_mask_add_epi32(e, big, e, _mm512_set1_epi32(1));
  const __m512 ef = _mm512_cvtepi32_ps(e);
  const __m512 s = _mm512_div_ps(_mm512_sub_ps(m, SPLAT(1.0f)), _mm512_add_ps(m, SPLAT(1.0f)));
  const __m512 z = _mm512_mul_ps(s, s);
  __m512 q = _mm512_add_ps(_mm512_mul_ps(SPLAT(0.22222222f), z), SPLAT(0.28571429f));
  q = _mm512_add_ps(_mm512_mul_ps(q, z), SPLAT(0.4f));
  q = _mm512_add_ps(_mm512_mul_ps(q, z), SPLAT(0.66666667f));
  return _mm512_add_ps(_mm512_mul_ps(ef, SPLAT(0.693359375f)),
                       _mm512_add_ps(_mm512_add_ps(s, s), _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(s, z), q), _mm512_mul_ps(ef, SPLAT(-2.12194440e-4f)))));
}

void vm_log_affine(float* a, int64_t n, float scale, float offset) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    // Masked-off lanes read 1 (a log of a normal number), never stored.
    const __m512 x = _mm512_mask_loadu_ps(SPLAT(1.0f), mk, a + i);
    _mm512_mask_storeu_ps(a + i, mk, log_vec(_mm512_add_ps(_mm512_mul_ps(x, SPLAT(scale)), SPLAT(offset))));
  }
}

void vm_affine(const float* src, float* dst, int64_t n, float scale, float offset) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    _mm512_mask_storeu_ps(dst + i, mk, _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(mk, src + i), SPLAT(scale)), SPLAT(offset)));
  }
}

/* The module's sum: the elements >= threshold added in index order. */
static double sum_in_order(const float* src, int64_t n, float threshold) {
  double sum = 0;
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    unsigned bits = _mm512_mask_cmp_ps_mask(mk, _mm512_maskz_loadu_ps(mk, src + i), SPLAT(threshold), _CMP_GE_OQ);
    for (; bits; bits &= bits - 1) sum += (double)src[i + __builtin_ctz(bits)];
  }
  return sum;
}

double vm_sum_at_least(const float* src, int64_t n, float threshold) {
  // With a positive normal threshold every summed element is a multiple of u, the float32 spacing at the threshold's
  // binade; while count · max / u < 2^53 every partial sum, in any order, is exact in float64, so a sum over sixteen
  // lanes is bitwise the module's in-order one. Otherwise (or with an infinite element) it adds in order.
  if (!(threshold >= 0x1p-126f) || !isfinite(threshold)) return sum_in_order(src, n, threshold);
  __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
  __m512 top = _mm512_setzero_ps();
  int64_t count = 0;
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    const __m512 x = _mm512_maskz_loadu_ps(mk, src + i);
    const __mmask16 kept = _mm512_mask_cmp_ps_mask(mk, x, SPLAT(threshold), _CMP_GE_OQ);
    const __m512 v = _mm512_maskz_mov_ps(kept, x);
    lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
    top = _mm512_max_ps(top, v);
    count += __builtin_popcount(kept);
  }
  int e;
  frexpf(threshold, &e);
  const double spacing = ldexp(1.0, e - 24), largest = _mm512_reduce_max_ps(top);
  if (!isfinite(largest) || (double)count * largest / spacing >= 0x1p53) return sum_in_order(src, n, threshold);
  return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
}

void vm_log_contrast_at_least(const float* src, const float* sub, float* dst, int64_t n, float threshold, float scale, float offset, double lam) {
  const __m512d l = _mm512_set1_pd(lam);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    const __m512 x = _mm512_mask_loadu_ps(SPLAT(1.0f), mk, src + i);
    const __mmask16 keep = _mm512_mask_cmp_ps_mask(mk, x, SPLAT(threshold), _CMP_GE_OQ);
    if (!keep) continue;
    const __m512 g = log_vec(_mm512_add_ps(_mm512_mul_ps(x, SPLAT(scale)), SPLAT(offset)));
    const __m512 b = _mm512_maskz_loadu_ps(mk, sub + i);
    const __m256 lo = _mm512_cvtpd_ps(_mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(g)), _mm512_mul_pd(l, _mm512_cvtps_pd(_mm512_castps512_ps256(b)))));
    const __m256 hi = _mm512_cvtpd_ps(_mm512_sub_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(g, 1)), _mm512_mul_pd(l, _mm512_cvtps_pd(_mm512_extractf32x8_ps(b, 1)))));
    _mm512_mask_storeu_ps(dst + i, keep, _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1));
  }
}

/* The first index of an element of x[0, n) equal to m (as JavaScript's indexOf: -0 equals 0), else 0 (m NaN). */
static int64_t first_equal(const float* x, int64_t n, float m) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    const unsigned eq = _mm512_mask_cmp_ps_mask(mk, _mm512_maskz_loadu_ps(mk, x + i), SPLAT(m), _CMP_EQ_OQ);
    if (eq) return i + __builtin_ctz(eq);
  }
  return 0;
}

double vm_greedy_pick(const float* x, int64_t n, int64_t* token) {
  const float m = vm_max(x, n);
  *token = first_equal(x, n, m);
  return isfinite(m) ? exp_shift_sum(x, NULL, n, m) : NAN;
}

/*
 * The scores: vm_log_affine of pA, vm_affine (or the fill) into scores, then vm_log_contrast_at_least over them, fused
 * per block of sixteen (each element's operations unchanged, the log-probabilities kept in registers).
 */
static void contrast_scores(const float* pE, const float* pA, float* scores, int64_t n, const vm_contrast* c, float scale_a, float scale_e) {
  const __m512 eps = SPLAT((float)c->eps), th = SPLAT(c->threshold);
  const __m512 fill = SPLAT(c->masked_inf ? -INFINITY : (float)c->log_eps);
  const int affine = !c->masked_inf && c->lam != 0;
  const __m512d l = _mm512_set1_pd(c->lam);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    const __m512 la = log_vec(_mm512_add_ps(_mm512_mul_ps(_mm512_mask_loadu_ps(SPLAT(1.0f), mk, pA + i), SPLAT(scale_a)), eps));
    __m512 sc = affine ? _mm512_add_ps(_mm512_mul_ps(la, SPLAT((float)-c->lam)), SPLAT((float)c->log_eps)) : fill;
    const __m512 x = _mm512_mask_loadu_ps(SPLAT(1.0f), mk, pE + i);
    const __mmask16 keep = _mm512_mask_cmp_ps_mask(mk, x, th, _CMP_GE_OQ);
    if (keep) {
      const __m512 g = log_vec(_mm512_add_ps(_mm512_mul_ps(x, SPLAT(scale_e)), eps));
      const __m256 g0 = _mm512_cvtpd_ps(_mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(g)), _mm512_mul_pd(l, _mm512_cvtps_pd(_mm512_castps512_ps256(la)))));
      const __m256 g1 = _mm512_cvtpd_ps(_mm512_sub_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(g, 1)), _mm512_mul_pd(l, _mm512_cvtps_pd(_mm512_extractf32x8_ps(la, 1)))));
      sc = _mm512_mask_mov_ps(sc, keep, _mm512_insertf32x8(_mm512_castps256_ps512(g0), g1, 1));
    }
    _mm512_mask_storeu_ps(scores + i, mk, sc);
  }
}

double vm_contrastive_pick(const float* expert, const float* amateur, int64_t n, const vm_contrast* c, float* pE, float* pA, float* scores, int64_t* token) {
  const double zE = exp_shift_sum(expert, pE, n, vm_max(expert, n));
  const double zA = exp_shift_sum(amateur, pA, n, vm_max(amateur, n));
  const double kept = vm_sum_at_least(pE, n, c->threshold);
  contrast_scores(pE, pA, scores, n, c, (float)(1 / zA), (float)(1 / (kept + c->eps * zE)));
  *token = first_equal(scores, n, vm_max(scores, n));
  const float m = scores[*token];
  return isfinite(m) ? exp_shift_sum(scores, NULL, n, m) : NAN;
}

#else
int vector_math_available(void) { return 0; }
float vm_max(const float* a, int64_t n) { (void)a; (void)n; return NAN; }
double vm_exp_shift_sum(const float* src, float* dst, int64_t n, float shift) { (void)src; (void)dst; (void)n; (void)shift; return NAN; }
void vm_log_affine(float* a, int64_t n, float scale, float offset) { (void)a; (void)n; (void)scale; (void)offset; }
void vm_affine(const float* src, float* dst, int64_t n, float scale, float offset) { (void)src; (void)dst; (void)n; (void)scale; (void)offset; }
double vm_sum_at_least(const float* src, int64_t n, float threshold) { (void)src; (void)n; (void)threshold; return NAN; }
void vm_log_contrast_at_least(const float* src, const float* sub, float* dst, int64_t n, float threshold, float scale, float offset, double lam) {
  (void)src; (void)sub; (void)dst; (void)n; (void)threshold; (void)scale; (void)offset; (void)lam;
}
double vm_greedy_pick(const float* x, int64_t n, int64_t* token) { (void)x; (void)n; *token = 0; return NAN; }
double vm_contrastive_pick(const float* expert, const float* amateur, int64_t n, const vm_contrast* c, float* pE, float* pA, float* scores, int64_t* token) {
  (void)expert; (void)amateur; (void)n; (void)c; (void)pE; (void)pA; (void)scores;
  *token = 0;
  return NAN;
}
#endif
