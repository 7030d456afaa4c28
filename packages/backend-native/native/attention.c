// See attention.h. Built as ISO C (-std=c11): no multiply-add contraction, so each product and sum is rounded
// as tfjs's op-by-op form rounds it.
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

void step_attention(const float* q, const float* k, const float* vT, const float* bias, float* out, float* scratch,
                    int64_t B, int64_t kvH, int64_t g, int64_t T, int64_t hd, float scale) {
  for (int64_t b = 0; b < B; b++) {
    for (int64_t j = 0; j < kvH; j++) {
      const float* kj = k + (b * kvH + j) * T * hd;
      const float* vj = vT + (b * kvH + j) * hd * T;
      for (int64_t gi = 0; gi < g; gi++) {
        const float* qh = q + ((b * kvH + j) * g + gi) * hd;
        float* oh = out + ((b * kvH + j) * g + gi) * hd;
        float m = -INFINITY;
        for (int64_t t = 0; t < T; t++) {
          float s = 0;
          for (int64_t d = 0; d < hd; d++) s += (qh[d] * scale) * kj[t * hd + d];
          s += bias[b * T + t];
          scratch[t] = s;
          if (s > m) m = s;
        }
        double sum = 0;
        for (int64_t t = 0; t < T; t++) sum += (scratch[t] = expf(scratch[t] - m));
        const float inv = (float)(1.0 / sum);
        for (int64_t t = 0; t < T; t++) scratch[t] *= inv;
        for (int64_t d = 0; d < hd; d++) {
          const float* vd = vj + d * T;
          float acc = 0;
          for (int64_t t = 0; t < T; t++) acc += scratch[t] * vd[t];
          oh[d] = acc;
        }
      }
    }
  }
}
