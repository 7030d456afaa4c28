// See attention.h. Built as ISO C (-std=c11): no implicit multiply-add contraction, so the rotation rounds each
// product and sum as tfjs's op-by-op form does; the step attention's dot products use explicit vector FMAs.
#include "attention.h"
#include <math.h>

void rope_rows(const float* x, const float* cos, const float* sin, float* out, int64_t n, int64_t heads, int64_t half) {
  for (int64_t r = 0; r < n; r++) {
    const float* c = cos + r * half;
    const float* s = sin + r * half;
    for (int64_t h = 0; h < heads; h++) {
      const float* x1 = x + (r * heads + h) * 2 * half;
      const float* x2 = x1 + half;
      float* o1 = out + (r * heads + h) * 2 * half;
      float* o2 = o1 + half;
      for (int64_t i = 0; i < half; i++) {
        const float a = x1[i] * c[i], b = x2[i] * s[i], d = x2[i] * c[i], e = x1[i] * s[i];
        o1[i] = a - b;
        o2[i] = d + e;
      }
    }
  }
}

#if defined(__AVX512F__)
#include <immintrin.h>
#include "vector_exp.h"

static inline __mmask16 lanes(int64_t left) { return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1); }

/* s[t] = exp(s[t] − m), 16 at a time (within 2 ulp of expf); below e^−87 (a masked key: −1e9) exactly 0. */
static inline void exp_shifted(float* s, int64_t n, float m) {
  for (int64_t t = 0; t < n; t += 16) {
    const __mmask16 mk = lanes(n - t);
    const __m512 x = _mm512_sub_ps(_mm512_maskz_loadu_ps(mk, s + t), _mm512_set1_ps(m));
    const __mmask16 live = _mm512_mask_cmp_ps_mask(mk, x, _mm512_set1_ps(-87.0f), _CMP_GE_OQ);
    _mm512_mask_storeu_ps(s + t, mk, _mm512_maskz_mov_ps(live, exp_vec(x)));
  }
}

/*
 * Sixteen sums at once: lane j is _mm512_reduce_add_ps(v[j]) bit for bit (the same pairs added: lanes i and i+8, then
 * i and i+4, i and i+2, i and i+1), with a shuffle tree instead of sixteen horizontal reductions.
 */
static inline __m512 reduce16(const __m512* v) {
  __m512 w[8], x[4], y[2];
  for (int p = 0; p < 8; p++) w[p] = _mm512_add_ps(_mm512_shuffle_f32x4(v[p], v[p + 8], 0x44), _mm512_shuffle_f32x4(v[p], v[p + 8], 0xEE));
  for (int p = 0; p < 4; p++) x[p] = _mm512_add_ps(_mm512_shuffle_f32x4(w[p], w[p + 4], 0x88), _mm512_shuffle_f32x4(w[p], w[p + 4], 0xDD));
  for (int p = 0; p < 2; p++) y[p] = _mm512_add_ps(_mm512_shuffle_ps(x[p], x[p + 2], 0x44), _mm512_shuffle_ps(x[p], x[p + 2], 0xEE));
  const __m512 z = _mm512_add_ps(_mm512_shuffle_ps(y[0], y[1], 0x88), _mm512_shuffle_ps(y[0], y[1], 0xDD));
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15), z);
}

/*
 * out[j] = a · (rows + j·stride) over n floats for j < count (at most 16): each 16 lanes of fused multiply-adds over n
 * in order, its lanes then summed as _mm512_reduce_add_ps sums them (reduce16).
 */
static inline __m512 dots16(const float* a, const float* rows, int64_t stride, int64_t count, int64_t n) {
  __m512 acc[16];
  for (int j = 0; j < 16; j++) acc[j] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = lanes(n - i);
    const __m512 x = _mm512_maskz_loadu_ps(m, a + i);
    for (int64_t j = 0; j < count; j++) acc[j] = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, rows + j * stride + i), acc[j]);
  }
  return reduce16(acc);
}

/*
 * The scores of a pair's g query heads (qs: g scaled queries) over T positions (+ bias) into s (g rows of T), each row
 * shifted by its largest and exponentiated. A block of sixteen positions at a time for every head, so each block of
 * keys comes from memory once while the heads' products overlap its loads.
 */
static void pair_weights(const float* qs, const float* kj, const float* bias, float* s, int64_t g, int64_t T, int64_t hd) {
  for (int64_t g0 = 0; g0 < g; g0 += 16) {
    const int64_t gn = g - g0 < 16 ? g - g0 : 16;
    __m512 top[16];
    for (int64_t j = 0; j < gn; j++) top[j] = _mm512_set1_ps(-INFINITY);
    for (int64_t t = 0; t < T; t += 16) {
      const __mmask16 mk = lanes(T - t);
      const __m512 b = _mm512_maskz_loadu_ps(mk, bias + t);
      for (int64_t j = 0; j < gn; j++) {
        const __m512 x = _mm512_add_ps(dots16(qs + (g0 + j) * hd, kj + t * hd, hd, T - t < 16 ? T - t : 16, hd), b);
        _mm512_mask_storeu_ps(s + (g0 + j) * T + t, mk, x);
        top[j] = _mm512_mask_max_ps(top[j], mk, x, top[j]);  // a NaN score is skipped, as a running "s > m" skips it
      }
    }
    for (int64_t j = 0; j < gn; j++) exp_shifted(s + (g0 + j) * T, T, _mm512_reduce_max_ps(top[j]));
  }
}

/* out [g, hd] = each head's weights s [g, T] · the transposed values (hd rows of cap), sixteen value rows at a time for every head. */
static void pair_values(const float* s, const float* vj, float* out, int64_t g, int64_t T, int64_t cap, int64_t hd) {
  for (int64_t d = 0; d < hd; d += 16)
    for (int64_t j = 0; j < g; j++) _mm512_mask_storeu_ps(out + j * hd + d, lanes(hd - d), dots16(s + j * T, vj + d * cap, cap, hd - d < 16 ? hd - d : 16, T));
}
#else
static inline void exp_shifted(float* s, int64_t n, float m) {
  for (int64_t t = 0; t < n; t++) s[t] = expf(s[t] - m);
}

static inline float dot(const float* a, const float* b, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static void pair_weights(const float* qs, const float* kj, const float* bias, float* s, int64_t g, int64_t T, int64_t hd) {
  for (int64_t j = 0; j < g; j++) {
    float m = -INFINITY;
    for (int64_t t = 0; t < T; t++) {
      s[j * T + t] = dot(qs + j * hd, kj + t * hd, hd) + bias[t];
      if (s[j * T + t] > m) m = s[j * T + t];
    }
    exp_shifted(s + j * T, T, m);
  }
}

static void pair_values(const float* s, const float* vj, float* out, int64_t g, int64_t T, int64_t cap, int64_t hd) {
  for (int64_t j = 0; j < g; j++)
    for (int64_t d = 0; d < hd; d++) out[j * hd + d] = dot(s + j * T, vj + d * cap, T);
}
#endif

int64_t step_attention_scratch(int64_t T, int64_t g, int64_t hd) { return g * (T + hd); }

void step_attention_pairs(const float* q, const float* k, const float* vT, const float* bias, float* out, float* scratch,
                          int64_t B, int64_t kvH, int64_t g, int64_t T, int64_t cap, int64_t hd, float scale, int64_t first, int64_t stride) {
  // A pair's heads together: their scores, their softmax sums side by side (each in position order: independent
  // chains that overlap), their weighted values. scratch: g rows of T scores, then the g scaled queries.
  float* qs = scratch + g * T;
  for (int64_t pair = first; pair < B * kvH; pair += stride) {
    const int64_t b = pair / kvH;
    const float* qh = q + pair * g * hd;
    for (int64_t i = 0; i < g * hd; i++) qs[i] = qh[i] * scale;
    pair_weights(qs, k + pair * cap * hd, bias + b * cap, scratch, g, T, hd);
    for (int64_t g0 = 0; g0 < g; g0 += 8) {
      const int64_t gn = g - g0 < 8 ? g - g0 : 8;
      double sum[8] = {0};
      for (int64_t t = 0; t < T; t++)
        for (int64_t j = 0; j < gn; j++) sum[j] += scratch[(g0 + j) * T + t];
      for (int64_t j = 0; j < gn; j++) {
        float* s = scratch + (g0 + j) * T;
        const float inv = (float)(1.0 / sum[j]);
        for (int64_t t = 0; t < T; t++) s[t] *= inv;
      }
    }
    pair_values(scratch, vT + pair * hd * cap, out + pair * g * hd, g, T, cap, hd);
  }
}

void step_attention(const float* q, const float* k, const float* vT, const float* bias, float* out, float* scratch,
                    int64_t B, int64_t kvH, int64_t g, int64_t T, int64_t cap, int64_t hd, float scale) {
  step_attention_pairs(q, k, vT, bias, out, scratch, B, kvH, g, T, cap, hd, scale, 0, 1);
}
