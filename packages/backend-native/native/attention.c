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

/* a · b over n floats: 16 lanes of fused multiply-adds, then their sum (the same order for every call of this n). */
static inline float dot(const float* a, const float* b, int64_t n) {
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = lanes(n - i);
    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc);
  }
  return _mm512_reduce_add_ps(acc);
}
/* s[t] = exp(s[t] − m), 16 at a time (within 2 ulp of expf); below e^−87 (a masked key: −1e9) exactly 0. */
static inline void exp_shifted(float* s, int64_t n, float m) {
  for (int64_t t = 0; t < n; t += 16) {
    const __mmask16 mk = lanes(n - t);
    const __m512 x = _mm512_sub_ps(_mm512_maskz_loadu_ps(mk, s + t), _mm512_set1_ps(m));
    const __mmask16 live = _mm512_mask_cmp_ps_mask(mk, x, _mm512_set1_ps(-87.0f), _CMP_GE_OQ);
    _mm512_mask_storeu_ps(s + t, mk, _mm512_maskz_mov_ps(live, exp_vec(x)));
  }
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
#endif

#if defined(__AVX512F__)
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
 * out[j] = dot(a, rows + j·stride, n) for j < count (at most 16), as dot() computes each: the same fused multiply-adds
 * in the same order, then reduce16 for the sums.
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

/* The scores of one query head over T positions (+ bias) into s, shifted by their largest and exponentiated. */
static void head_weights(const float* qs, const float* kj, const float* bias, float* s, int64_t T, int64_t hd) {
  __m512 top = _mm512_set1_ps(-INFINITY);
  for (int64_t t = 0; t < T; t += 16) {
    const __mmask16 mk = lanes(T - t);
    const __m512 x = _mm512_add_ps(dots16(qs, kj + t * hd, hd, T - t < 16 ? T - t : 16, hd), _mm512_maskz_loadu_ps(mk, bias + t));
    _mm512_mask_storeu_ps(s + t, mk, x);
    top = _mm512_mask_max_ps(top, mk, x, top);  // a NaN score is skipped, as a running "s > m" skips it
  }
  exp_shifted(s, T, _mm512_reduce_max_ps(top));
}

/* out [hd] = s [T] · the transposed values (rows of cap). */
static void head_values(const float* s, const float* vj, float* out, int64_t T, int64_t cap, int64_t hd) {
  for (int64_t d = 0; d < hd; d += 16) _mm512_mask_storeu_ps(out + d, lanes(hd - d), dots16(s, vj + d * cap, cap, hd - d < 16 ? hd - d : 16, T));
}
#else
static void head_weights(const float* qs, const float* kj, const float* bias, float* s, int64_t T, int64_t hd) {
  float m = -INFINITY;
  for (int64_t t = 0; t < T; t++) {
    s[t] = dot(qs, kj + t * hd, hd) + bias[t];
    if (s[t] > m) m = s[t];
  }
  exp_shifted(s, T, m);
}

static void head_values(const float* s, const float* vj, float* out, int64_t T, int64_t cap, int64_t hd) {
  for (int64_t d = 0; d < hd; d++) out[d] = dot(s, vj + d * cap, T);
}
#endif

int64_t step_attention_scratch(int64_t T, int64_t g, int64_t hd) { return g * T + hd; }

void step_attention_pairs(const float* q, const float* k, const float* vT, const float* bias, float* out, float* scratch,
                          int64_t B, int64_t kvH, int64_t g, int64_t T, int64_t cap, int64_t hd, float scale, int64_t first, int64_t stride) {
  // A pair's heads one after another through their scores, then their softmax sums side by side (each in position
  // order: independent chains that overlap), then their weighted values. scratch: g rows of T scores, the scaled query.
  float* qs = scratch + g * T;
  for (int64_t pair = first; pair < B * kvH; pair += stride) {
    const int64_t b = pair / kvH;
    const float* kj = k + pair * cap * hd;
    const float* vj = vT + pair * hd * cap;
    for (int64_t gi = 0; gi < g; gi++) {
      const float* qh = q + (pair * g + gi) * hd;
      for (int64_t d = 0; d < hd; d++) qs[d] = qh[d] * scale;
      head_weights(qs, kj, bias + b * cap, scratch + gi * T, T, hd);
    }
    for (int64_t g0 = 0; g0 < g; g0 += 8) {
      const int64_t gn = g - g0 < 8 ? g - g0 : 8;
      double sum[8] = {0};
      for (int64_t t = 0; t < T; t++)
        for (int64_t j = 0; j < gn; j++) sum[j] += scratch[(g0 + j) * T + t];
      for (int64_t j = 0; j < gn; j++) {
        float* s = scratch + (g0 + j) * T;
        const float inv = (float)(1.0 / sum[j]);
        for (int64_t t = 0; t < T; t++) s[t] *= inv;
        head_values(s, vj, out + (pair * g + g0 + j) * hd, T, cap, hd);
      }
    }
  }
}

void step_attention(const float* q, const float* k, const float* vT, const float* bias, float* out, float* scratch,
                    int64_t B, int64_t kvH, int64_t g, int64_t T, int64_t cap, int64_t hd, float scale) {
  step_attention_pairs(q, k, vT, bias, out, scratch, B, kvH, g, T, cap, hd, scale, 0, 1);
}
