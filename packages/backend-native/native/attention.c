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

void step_attention_pairs(const float* q, const float* k, const float* vT, const float* bias, float* out, float* scratch,
                          int64_t B, int64_t kvH, int64_t g, int64_t T, int64_t cap, int64_t hd, float scale, int64_t first, int64_t stride) {
  // Vectorized over the head size for the scores and over positions for the weighted sum (both contiguous in
  // their layouts); `scratch` holds the scores, then the weights, then the scaled query.
  float* qs = scratch + T;
  for (int64_t pair = first; pair < B * kvH; pair += stride) {
    const int64_t b = pair / kvH;
    const float* kj = k + pair * cap * hd;
    const float* vj = vT + pair * hd * cap;
    for (int64_t gi = 0; gi < g; gi++) {
      const float* qh = q + (pair * g + gi) * hd;
      float* oh = out + (pair * g + gi) * hd;
      for (int64_t d = 0; d < hd; d++) qs[d] = qh[d] * scale;
      float m = -INFINITY;
      for (int64_t t = 0; t < T; t++) {
        const float s = dot(qs, kj + t * hd, hd) + bias[b * cap + t];
        scratch[t] = s;
        if (s > m) m = s;
      }
      double sum = 0;
      exp_shifted(scratch, T, m);
      for (int64_t t = 0; t < T; t++) sum += scratch[t];
      const float inv = (float)(1.0 / sum);
      for (int64_t t = 0; t < T; t++) scratch[t] *= inv;
      for (int64_t d = 0; d < hd; d++) oh[d] = dot(scratch, vj + d * cap, T);
    }
  }
}

void step_attention(const float* q, const float* k, const float* vT, const float* bias, float* out, float* scratch,
                    int64_t B, int64_t kvH, int64_t g, int64_t T, int64_t cap, int64_t hd, float scale) {
  step_attention_pairs(q, k, vT, bias, out, scratch, B, kvH, g, T, cap, hd, scale, 0, 1);
}
