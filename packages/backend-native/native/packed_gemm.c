// See packed_gemm.h.
#include "packed_gemm.h"
#include <math.h>
#include "bf16.h"
#include <string.h>

#define PANEL 16

size_t packed_panels_size(int64_t k, int64_t n) { return (size_t)((n + PANEL - 1) / PANEL) * (size_t)k * PANEL; }

#define DEFINE_PACK(NAME, T)                                                                               \
  void NAME(const T* w, T* wp, int64_t k, int64_t n) {                                                     \
    const int64_t panels = (n + PANEL - 1) / PANEL;                                                        \
    for (int64_t p = 0; p < panels; p++) {                                                                 \
      const int64_t cols = n - p * PANEL < PANEL ? n - p * PANEL : PANEL;                                  \
      for (int64_t kk = 0; kk < k; kk++) {                                                                 \
        T* dst = wp + (p * k + kk) * PANEL;                                                                \
        memcpy(dst, w + kk * n + p * PANEL, sizeof(T) * (size_t)cols);                                     \
        if (cols < PANEL) memset(dst + cols, 0, sizeof(T) * (size_t)(PANEL - cols));                       \
      }                                                                                                    \
    }                                                                                                      \
  }
DEFINE_PACK(pack_panels_f32, float)
DEFINE_PACK(pack_panels_bf16, uint16_t)

#if defined(__AVX512F__)
#include <immintrin.h>

#define LOAD_F32(p) _mm512_loadu_ps(p)
#define LOAD_BF16(p) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(p))), 16))

static inline __mmask16 tail_mask(int64_t left) { return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1); }

/*
 * Panels [p0, p1) for ROWS (1 or 2) rows: four panels at a time (eight independent chains with two rows), each
 * panel one contiguous stream of k · 16 values.
 */
#define DEFINE_PACKED(NAME, T, LOADW)                                                                      \
  static inline __attribute__((always_inline)) void NAME##_rows(const int ROWS, const float* x0, const float* x1, const T* wp, \
      float* o0, float* o1, int64_t k, int64_t n, int64_t p0, int64_t p1) {                                \
    int64_t p = p0;                                                                                        \
    for (; p + 4 <= p1; p += 4) {                                                                          \
      const T* w = wp + p * k * PANEL;                                                                     \
      __m512 c[2][4];                                                                                      \
      for (int r = 0; r < 2; r++) for (int v = 0; v < 4; v++) c[r][v] = _mm512_setzero_ps();              \
      for (int64_t kk = 0; kk < k; kk++) {                                                                 \
        const __m512 a0 = _mm512_set1_ps(x0[kk]);                                                          \
        const __m512 a1 = ROWS > 1 ? _mm512_set1_ps(x1[kk]) : a0;                                          \
        _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) {                                              \
          const __m512 b = LOADW(w + (v * k + kk) * PANEL);                                                \
          c[0][v] = _mm512_fmadd_ps(a0, b, c[0][v]);                                                       \
          if (ROWS > 1) c[1][v] = _mm512_fmadd_ps(a1, b, c[1][v]);                                         \
        }                                                                                                  \
      }                                                                                                    \
      for (int v = 0; v < 4; v++) {                                                                        \
        const __mmask16 mk = tail_mask(n - (p + v) * PANEL);                                               \
        _mm512_mask_storeu_ps(o0 + (p + v) * PANEL, mk, c[0][v]);                                          \
        if (ROWS > 1) _mm512_mask_storeu_ps(o1 + (p + v) * PANEL, mk, c[1][v]);                            \
      }                                                                                                    \
    }                                                                                                      \
    for (; p < p1; p++) {                                                                                  \
      const T* w = wp + p * k * PANEL;                                                                     \
      __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps();                                           \
      for (int64_t kk = 0; kk < k; kk++) {                                                                 \
        const __m512 b = LOADW(w + kk * PANEL);                                                            \
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(x0[kk]), b, c0);                                               \
        if (ROWS > 1) c1 = _mm512_fmadd_ps(_mm512_set1_ps(x1[kk]), b, c1);                                 \
      }                                                                                                    \
      const __mmask16 mk = tail_mask(n - p * PANEL);                                                       \
      _mm512_mask_storeu_ps(o0 + p * PANEL, mk, c0);                                                       \
      if (ROWS > 1) _mm512_mask_storeu_ps(o1 + p * PANEL, mk, c1);                                         \
    }                                                                                                      \
  }                                                                                                        \
  void NAME(const float* x, const T* wp, float* out, int64_t m, int64_t k, int64_t n, int part, int parts) { \
    const int64_t panels = (n + PANEL - 1) / PANEL, p0 = panels * part / parts, p1 = panels * (part + 1) / parts; \
    for (int64_t i = 0; i < m; i += 2) {                                                                   \
      if (m - i >= 2) NAME##_rows(2, x + i * k, x + (i + 1) * k, wp, out + i * n, out + (i + 1) * n, k, n, p0, p1); \
      else NAME##_rows(1, x + i * k, x + i * k, wp, out + i * n, out + i * n, k, n, p0, p1);                \
    }                                                                                                      \
  }

DEFINE_PACKED(packed_gemm_f32_share, float, LOAD_F32)
DEFINE_PACKED(packed_gemm_bf16_share, uint16_t, LOAD_BF16)

#else
/* Without AVX-512: the same chains with scalar fmaf. */
#define DEFINE_PACKED(NAME, T, VALUE)                                                                      \
  void NAME(const float* x, const T* wp, float* out, int64_t m, int64_t k, int64_t n, int part, int parts) { \
    const int64_t panels = (n + PANEL - 1) / PANEL, p0 = panels * part / parts, p1 = panels * (part + 1) / parts; \
    for (int64_t i = 0; i < m; i++)                                                                        \
      for (int64_t j = p0 * PANEL; j < p1 * PANEL && j < n; j++) {                                         \
        float c = 0;                                                                                       \
        for (int64_t kk = 0; kk < k; kk++) c = fmaf(x[i * k + kk], VALUE(wp[((j / PANEL) * k + kk) * PANEL + j % PANEL]), c); \
        out[i * n + j] = c;                                                                                \
      }                                                                                                    \
  }
#define F32_VALUE(v) (v)
DEFINE_PACKED(packed_gemm_f32_share, float, F32_VALUE)
DEFINE_PACKED(packed_gemm_bf16_share, uint16_t, bf16_value)
#endif
