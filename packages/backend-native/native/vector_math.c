// See vector_math.h. Each function mirrors its WebAssembly twin operation for operation: f32x4 pmin/pmax are
// max/min with the constant first (a NaN lane passes through), mul and add round separately (no fused multiply-add),
// and a 16-lane vector is the module's two loop iterations of eight, taken in order.
#include "vector_math.h"
#include <math.h>
#include <omp.h>
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

/* Elements per chunk of the exponentials' sums (the module's): each chunk summed from zero, the chunks' sums added in order. */
#define SUM_CHUNK 1024

/* One chunk [lo, hi) of vm_exp_shift_sum (at most SUM_CHUNK elements): its exponentials (stored unless dst is NULL) and their sum. */
static inline double chunk_exp_sum(const float* src, float* dst, int64_t lo, int64_t hi, float shift) {
  __m256d acc = _mm256_setzero_pd();
  const __m512 sh = SPLAT(shift);
  for (int64_t i = lo; i < hi; i += 16) {
    const __mmask16 mk = hi - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    const __m512 p = exp_vec(_mm512_sub_ps(_mm512_maskz_loadu_ps(mk, src + i), sh));
    if (dst) _mm512_mask_storeu_ps(dst + i, mk, p);
    acc = add_eight(acc, _mm512_castps512_ps256(p));
    if (mk == 0xFFFF) acc = add_eight(acc, _mm512_extractf32x8_ps(p, 1));
  }
  return total(acc);
}

double vm_exp_shift_sum(const float* src, float* dst, int64_t n, float shift) {
  double sum = 0;
  for (int64_t lo = 0; lo < n; lo += SUM_CHUNK) sum += chunk_exp_sum(src, dst, lo, lo + SUM_CHUNK < n ? lo + SUM_CHUNK : n, shift);
  return sum;
}

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

/* The elements >= threshold of a range: their sum over sixteen lanes, count and largest. */
typedef struct {
  double sum;
  int64_t count;
  float top;
} at_least_part;

static at_least_part at_least_in(const float* src, int64_t lo_i, int64_t hi_i, float threshold) {
  __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
  __m512 top = _mm512_setzero_ps();
  int64_t count = 0;
  for (int64_t i = lo_i; i < hi_i; i += 16) {
    const __mmask16 mk = hi_i - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    const __m512 x = _mm512_maskz_loadu_ps(mk, src + i);
    const __mmask16 kept = _mm512_mask_cmp_ps_mask(mk, x, SPLAT(threshold), _CMP_GE_OQ);
    const __m512 v = _mm512_maskz_mov_ps(kept, x);
    lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
    top = _mm512_max_ps(top, v);
    count += __builtin_popcount(kept);
  }
  return (at_least_part){_mm512_reduce_add_pd(_mm512_add_pd(lo, hi)), count, _mm512_reduce_max_ps(top)};
}

/*
 * vm_sum_at_least of src[0, n) from the parts of its consecutive ranges. With a positive normal threshold every summed
 * element is a multiple of u, the float32 spacing at the threshold's binade; while count · max / u < 2^53 every partial
 * sum, in any order, is exact in float64, so the parts' sums add up to the module's in-order sum bit for bit. Otherwise
 * (or with an infinite element) the elements are added in order.
 */
static double sum_at_least_of_parts(const at_least_part* parts, int count_of_parts, const float* src, int64_t n, float threshold) {
  if (!(threshold >= 0x1p-126f) || !isfinite(threshold)) return sum_in_order(src, n, threshold);
  int64_t count = 0;
  float largest = 0;
  for (int u = 0; u < count_of_parts; u++) {
    count += parts[u].count;
    largest = fmaxf(largest, parts[u].top);
  }
  int e;
  frexpf(threshold, &e);
  const double spacing = ldexp(1.0, e - 24);
  if (!isfinite(largest) || (double)count * largest / spacing >= 0x1p53) return sum_in_order(src, n, threshold);
  double sum = 0;
  for (int u = 0; u < count_of_parts; u++) sum += parts[u].sum;
  return sum;
}

double vm_sum_at_least(const float* src, int64_t n, float threshold) {
  const at_least_part whole = at_least_in(src, 0, n, threshold);
  return sum_at_least_of_parts(&whole, 1, src, n, threshold);
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

/* The largest of a[lo, hi) as vm_max finds it (NaN if any is NaN; −inf when empty). */
static float max_in(const float* a, int64_t lo, int64_t hi) {
  __m512 m = SPLAT(-INFINITY);
  __mmask16 nan = 0;
  for (int64_t i = lo; i < hi; i += 16) {
    const __mmask16 mk = hi - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    const __m512 x = _mm512_mask_loadu_ps(SPLAT(-INFINITY), mk, a + i);
    m = _mm512_max_ps(x, m);
    nan |= _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  }
  return nan ? NAN : _mm512_reduce_max_ps(m);
}

/* The largest of the shares' maxima (NaN if any is NaN): the maximum is exact in any order. */
static float max_of_shares(const float* m, int parts) {
  float top = m[0];
  for (int u = 1; u < parts; u++) top = isnan(top) || isnan(m[u]) ? NAN : fmaxf(top, m[u]);
  return top;
}

/* The first index in [lo, hi) of an element equal to m (-0 equals 0, as JavaScript's indexOf), or -1. */
static int64_t first_equal_in(const float* a, int64_t lo, int64_t hi, float m) {
  for (int64_t i = lo; i < hi; i += 16) {
    const __mmask16 mk = hi - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    const unsigned eq = _mm512_mask_cmp_ps_mask(mk, _mm512_maskz_loadu_ps(mk, a + i), SPLAT(m), _CMP_EQ_OQ);
    if (eq) return i + __builtin_ctz(eq);
  }
  return -1;
}

/* The first of the shares' first indices (in share order), else 0. */
static int64_t first_of_shares(const int64_t* first, int parts) {
  for (int u = 0; u < parts; u++) if (first[u] >= 0) return first[u];
  return 0;
}

/* Chunk sums [c0, c1) of exp(src − shift) into sums (exponentials stored in dst unless NULL). */
static void chunk_sums(const float* src, float* dst, int64_t n, int64_t c0, int64_t c1, float shift, double* sums) {
  for (int64_t c = c0; c < c1; c++) sums[c] = chunk_exp_sum(src, dst, c * SUM_CHUNK, (c + 1) * SUM_CHUNK < n ? (c + 1) * SUM_CHUNK : n, shift);
}

/* vm_exp_shift_sum's total of its chunks' sums. */
static double sum_of_chunks(const double* sums, int64_t chunks) {
  double sum = 0;
  for (int64_t c = 0; c < chunks; c++) sum += sums[c];
  return sum;
}

#define MAX_PARTS 64

/*
 * A pick's team: whole chunks per thread, in order (so thread t's elements are about the head product's column share
 * t, packed_gemm.c: the logits it wrote), at most one thread per chunk.
 */
typedef struct {
  int64_t chunks;
  int parts;
} pick_team;

static pick_team team_for(int64_t n, int threads) {
  const int64_t chunks = (n + SUM_CHUNK - 1) / SUM_CHUNK;
  int64_t parts = threads < 1 ? 1 : threads;
  if (parts > MAX_PARTS) parts = MAX_PARTS;
  if (parts > chunks) parts = chunks < 1 ? 1 : chunks;
  return (pick_team){chunks, (int)parts};
}

/* A team thread's place in a pick of n elements: its index, the team's size, its chunks [c0, c1) and elements [lo, hi). */
typedef struct {
  int t, team;
  int64_t c0, c1, lo, hi;
} pick_share;

static pick_share share_of(const pick_team* p, int64_t n) {
  pick_share s = {omp_get_thread_num(), omp_get_num_threads(), 0, 0, 0, 0};
  s.c0 = p->chunks * s.t / s.team;
  s.c1 = p->chunks * (s.t + 1) / s.team;
  s.lo = s.c0 * SUM_CHUNK;
  s.hi = s.c1 * SUM_CHUNK < n ? s.c1 * SUM_CHUNK : n;
  return s;
}

double vm_greedy_pick(const float* x, int64_t n, int64_t* token, int threads) {
  const pick_team p = team_for(n, threads);
  double sums[p.chunks];
  float top[MAX_PARTS];
  int64_t first[MAX_PARTS];
  int team = 1;
#pragma omp parallel num_threads(p.parts) if (p.parts > 1)
  {
    const pick_share s = share_of(&p, n);
    if (s.t == 0) team = s.team;
    top[s.t] = max_in(x, s.lo, s.hi);
#pragma omp barrier
    const float m = max_of_shares(top, s.team);
    first[s.t] = first_equal_in(x, s.lo, s.hi, m);
    if (isfinite(m)) chunk_sums(x, NULL, n, s.c0, s.c1, m, sums);
  }
  const float m = max_of_shares(top, team);
  *token = first_of_shares(first, team);
  return isfinite(m) ? sum_of_chunks(sums, p.chunks) : NAN;
}

/*
 * The scores over [lo, hi): vm_log_affine of pA, vm_affine (or the fill) into scores, then vm_log_contrast_at_least
 * over them, fused per block of sixteen (each element's operations unchanged, the log-probabilities kept in
 * registers). Returns their largest (NaN if any is NaN).
 */
static float contrast_share(const float* pE, const float* pA, float* scores, int64_t lo, int64_t hi, const vm_contrast* c, float scale_a, float scale_e) {
  const __m512 eps = SPLAT((float)c->eps), th = SPLAT(c->threshold);
  const __m512 fill = SPLAT(c->masked_inf ? -INFINITY : (float)c->log_eps);
  const int affine = !c->masked_inf && c->lam != 0;
  const __m512d l = _mm512_set1_pd(c->lam);
  for (int64_t i = lo; i < hi; i += 16) {
    const __mmask16 mk = hi - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
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
  return max_in(scores, lo, hi);
}

double vm_contrastive_pick(const float* expert, const float* amateur, int64_t n, const vm_contrast* c, float* pE, float* pA, float* scores, int64_t* token, int threads) {
  const pick_team p = team_for(n, threads);
  double sumE[p.chunks], sumA[p.chunks], sumS[p.chunks];
  float topE[MAX_PARTS], topA[MAX_PARTS], topS[MAX_PARTS];
  int64_t first[MAX_PARTS];
  at_least_part kept[MAX_PARTS];
  int team = 1;
  // Each thread's chunks through every pass; the maxima, the plausible sum (exact, or added in order) and the chunks'
  // sums combined by every thread alike.
#pragma omp parallel num_threads(p.parts) if (p.parts > 1)
  {
    const pick_share s = share_of(&p, n);
    const int t = s.t;
    const int64_t c0 = s.c0, c1 = s.c1, lo = s.lo, hi = s.hi;
    if (t == 0) team = s.team;
    topE[t] = max_in(expert, lo, hi);
    topA[t] = max_in(amateur, lo, hi);
#pragma omp barrier
    chunk_sums(expert, pE, n, c0, c1, max_of_shares(topE, s.team), sumE);
    chunk_sums(amateur, pA, n, c0, c1, max_of_shares(topA, s.team), sumA);
    kept[t] = at_least_in(pE, lo, hi, c->threshold);
#pragma omp barrier
    const double zE = sum_of_chunks(sumE, p.chunks), zA = sum_of_chunks(sumA, p.chunks);
    const double plausible = sum_at_least_of_parts(kept, s.team, pE, n, c->threshold);
    topS[t] = contrast_share(pE, pA, scores, lo, hi, c, (float)(1 / zA), (float)(1 / (plausible + c->eps * zE)));
#pragma omp barrier
    // The normaliser is shifted by the largest score, which the token's equals (but for a zero's sign, which no
    // difference of exponentials sees); with a NaN score the sum is NaN whatever the shift.
    const float top = max_of_shares(topS, s.team);
    first[t] = first_equal_in(scores, lo, hi, top);
    if (isfinite(top)) chunk_sums(scores, NULL, n, c0, c1, top, sumS);
  }
  *token = first_of_shares(first, team);
  return isfinite(max_of_shares(topS, team)) ? sum_of_chunks(sumS, p.chunks) : NAN;
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
double vm_greedy_pick(const float* x, int64_t n, int64_t* token, int threads) { (void)x; (void)n; (void)threads; *token = 0; return NAN; }
double vm_contrastive_pick(const float* expert, const float* amateur, int64_t n, const vm_contrast* c, float* pE, float* pA, float* scores, int64_t* token, int threads) {
  (void)expert; (void)amateur; (void)n; (void)c; (void)pE; (void)pA; (void)scores; (void)threads;
  *token = 0;
  return NAN;
}
#endif
