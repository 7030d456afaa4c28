// See packed_gemm.h.
#include "packed_gemm.h"
#include <math.h>
#include <string.h>
#include "bf16.h"

#define PANEL 16
/*
 * Prefetch distance of each panel's stream, in 64-byte rows (a float32 panel row, or a bf16 pair of rows): with four
 * streams the hardware prefetcher alone left a one-thread product from memory at 16–20 GB/s (28 with this), and a
 * two-row product, which spends longer per line, 30% slower than one row (now the same).
 */
#define PREFETCH_ROWS 48

static int64_t panels_of(int64_t n) { return (n + PANEL - 1) / PANEL; }

size_t packed_panels_size_f32(int64_t k, int64_t n) { return (size_t)panels_of(n) * (size_t)k * PANEL; }

size_t packed_panels_size_bf16(int64_t k, int64_t n) { return (size_t)panels_of(n) * (size_t)((k + 1) / 2) * 2 * PANEL; }

void pack_panels_f32(const float* w, float* wp, int64_t k, int64_t n) {
  for (int64_t p = 0; p < panels_of(n); p++) {
    const int64_t cols = n - p * PANEL < PANEL ? n - p * PANEL : PANEL;
    for (int64_t kk = 0; kk < k; kk++) {
      float* dst = wp + (p * k + kk) * PANEL;
      memcpy(dst, w + kk * n + p * PANEL, sizeof(float) * (size_t)cols);
      if (cols < PANEL) memset(dst + cols, 0, sizeof(float) * (size_t)(PANEL - cols));
    }
  }
}

void pack_panels_bf16(const uint16_t* w, uint16_t* wp, int64_t k, int64_t n) {
  const int64_t pairs = (k + 1) / 2;
  for (int64_t p = 0; p < panels_of(n); p++)
    for (int64_t q = 0; q < pairs; q++)
      for (int64_t j = 0; j < PANEL; j++)
        for (int64_t h = 0; h < 2; h++) {
          const int64_t kk = 2 * q + h, col = p * PANEL + j;
          wp[((p * pairs + q) * PANEL + j) * 2 + h] = kk < k && col < n ? w[kk * n + col] : 0;
        }
}

#if defined(__AVX512F__)
#include <immintrin.h>

static inline __mmask16 tail_mask(int64_t left) { return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1); }

/* Stores the accumulators of panel p (ROWS rows) under the tail mask of n. */
#define STORE_PANEL(ROWS, c0, c1, o0, o1, p, n)                                                            \
  do {                                                                                                     \
    const __mmask16 mk_ = tail_mask((n) - (p) * PANEL);                                                    \
    _mm512_mask_storeu_ps((o0) + (p) * PANEL, mk_, c0);                                                    \
    if ((ROWS) > 1) _mm512_mask_storeu_ps((o1) + (p) * PANEL, mk_, c1);                                    \
  } while (0)

/* float32 panels [p0, p1) for ROWS (1 or 2) rows: four panels at a time (eight independent chains with two rows). */
static inline __attribute__((always_inline)) void f32_rows(const int ROWS, const float* x0, const float* x1, const float* wp, float* o0, float* o1,
                                                           int64_t k, int64_t n, int64_t p0, int64_t p1) {
  int64_t p = p0;
  for (; p + 4 <= p1; p += 4) {
    const float* w = wp + p * k * PANEL;
    __m512 c[2][4];
    for (int r = 0; r < 2; r++) for (int v = 0; v < 4; v++) c[r][v] = _mm512_setzero_ps();
    for (int64_t kk = 0; kk < k; kk++) {
      const __m512 a0 = _mm512_set1_ps(x0[kk]);
      const __m512 a1 = ROWS > 1 ? _mm512_set1_ps(x1[kk]) : a0;
#pragma GCC unroll 4
      for (int v = 0; v < 4; v++) {
        _mm_prefetch((const char*)(w + (v * k + kk + PREFETCH_ROWS) * PANEL), _MM_HINT_T0);
        const __m512 b = _mm512_loadu_ps(w + (v * k + kk) * PANEL);
        c[0][v] = _mm512_fmadd_ps(a0, b, c[0][v]);
        if (ROWS > 1) c[1][v] = _mm512_fmadd_ps(a1, b, c[1][v]);
      }
    }
    for (int v = 0; v < 4; v++) STORE_PANEL(ROWS, c[0][v], c[1][v], o0, o1, p + v, n);
  }
  for (; p < p1; p++) {
    const float* w = wp + p * k * PANEL;
    __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps();
    for (int64_t kk = 0; kk < k; kk++) {
      const __m512 b = _mm512_loadu_ps(w + kk * PANEL);
      c0 = _mm512_fmadd_ps(_mm512_set1_ps(x0[kk]), b, c0);
      if (ROWS > 1) c1 = _mm512_fmadd_ps(_mm512_set1_ps(x1[kk]), b, c1);
    }
    STORE_PANEL(ROWS, c0, c1, o0, o1, p, n);
  }
}

/*
 * bf16 panels hold rows kk and kk+1 of a lane in one 32-bit word (kk in the low half), so one load gives two rows
 * and each widens in one instruction (a shift, or a mask of the high half); the chains still take kk, then kk+1.
 */
static inline __attribute__((always_inline)) void bf16_rows(const int ROWS, const float* x0, const float* x1, const uint16_t* wp, float* o0, float* o1,
                                                            int64_t k, int64_t n, int64_t p0, int64_t p1) {
  const int64_t pairs = (k + 1) / 2, even = k & ~(int64_t)1;
  const __m512i high = _mm512_set1_epi32((int)0xFFFF0000u);
  for (int64_t p = p0; p < p1; p += 4) {
    const int panels = p1 - p < 4 ? (int)(p1 - p) : 4;
    const uint16_t* w = wp + p * pairs * 2 * PANEL;
    __m512 c[2][4];
    for (int r = 0; r < 2; r++) for (int v = 0; v < 4; v++) c[r][v] = _mm512_setzero_ps();
    if (panels == 4) {
      for (int64_t kk = 0; kk < even; kk += 2) {
        const __m512 a0 = _mm512_set1_ps(x0[kk]), b0 = _mm512_set1_ps(x0[kk + 1]);
        const __m512 a1 = ROWS > 1 ? _mm512_set1_ps(x1[kk]) : a0, b1 = ROWS > 1 ? _mm512_set1_ps(x1[kk + 1]) : b0;
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) {
          _mm_prefetch((const char*)(w + (v * pairs + kk / 2 + PREFETCH_ROWS) * 2 * PANEL), _MM_HINT_T0);
          const __m512i both = _mm512_loadu_si512((const void*)(w + (v * pairs + kk / 2) * 2 * PANEL));
          const __m512 lo = _mm512_castsi512_ps(_mm512_slli_epi32(both, 16)), hi = _mm512_castsi512_ps(_mm512_and_si512(both, high));
          c[0][v] = _mm512_fmadd_ps(b0, hi, _mm512_fmadd_ps(a0, lo, c[0][v]));
          if (ROWS > 1) c[1][v] = _mm512_fmadd_ps(b1, hi, _mm512_fmadd_ps(a1, lo, c[1][v]));
        }
      }
    } else {
      for (int64_t kk = 0; kk < even; kk += 2)
        for (int v = 0; v < panels; v++) {
          const __m512i both = _mm512_loadu_si512((const void*)(w + (v * pairs + kk / 2) * 2 * PANEL));
          const __m512 lo = _mm512_castsi512_ps(_mm512_slli_epi32(both, 16)), hi = _mm512_castsi512_ps(_mm512_and_si512(both, high));
          c[0][v] = _mm512_fmadd_ps(_mm512_set1_ps(x0[kk + 1]), hi, _mm512_fmadd_ps(_mm512_set1_ps(x0[kk]), lo, c[0][v]));
          if (ROWS > 1) c[1][v] = _mm512_fmadd_ps(_mm512_set1_ps(x1[kk + 1]), hi, _mm512_fmadd_ps(_mm512_set1_ps(x1[kk]), lo, c[1][v]));
        }
    }
    if (even < k) {
      // An odd k: the last row alone (its pair's high half is padding, never read).
      for (int v = 0; v < panels; v++) {
        const __m512i both = _mm512_loadu_si512((const void*)(w + (v * pairs + even / 2) * 2 * PANEL));
        const __m512 lo = _mm512_castsi512_ps(_mm512_slli_epi32(both, 16));
        c[0][v] = _mm512_fmadd_ps(_mm512_set1_ps(x0[even]), lo, c[0][v]);
        if (ROWS > 1) c[1][v] = _mm512_fmadd_ps(_mm512_set1_ps(x1[even]), lo, c[1][v]);
      }
    }
    for (int v = 0; v < panels; v++) STORE_PANEL(ROWS, c[0][v], c[1][v], o0, o1, p + v, n);
  }
}

#define DEFINE_SHARE(NAME, T, ROWS_FN)                                                                     \
  void NAME(const float* x, const T* wp, float* out, int64_t m, int64_t k, int64_t n, int part, int parts) { \
    const int64_t panels = panels_of(n), p0 = panels * part / parts, p1 = panels * (part + 1) / parts;     \
    for (int64_t i = 0; i < m; i += 2) {                                                                   \
      if (m - i >= 2) ROWS_FN(2, x + i * k, x + (i + 1) * k, wp, out + i * n, out + (i + 1) * n, k, n, p0, p1); \
      else ROWS_FN(1, x + i * k, x + i * k, wp, out + i * n, out + i * n, k, n, p0, p1);                   \
    }                                                                                                      \
  }
DEFINE_SHARE(packed_gemm_f32_share, float, f32_rows)
DEFINE_SHARE(packed_gemm_bf16_share, uint16_t, bf16_rows)

#else
/* Without AVX-512: the same chains with scalar fmaf. */
void packed_gemm_f32_share(const float* x, const float* wp, float* out, int64_t m, int64_t k, int64_t n, int part, int parts) {
  const int64_t panels = panels_of(n);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = panels * part / parts * PANEL; j < panels * (part + 1) / parts * PANEL && j < n; j++) {
      float c = 0;
      for (int64_t kk = 0; kk < k; kk++) c = fmaf(x[i * k + kk], wp[((j / PANEL) * k + kk) * PANEL + j % PANEL], c);
      out[i * n + j] = c;
    }
}
void packed_gemm_bf16_share(const float* x, const uint16_t* wp, float* out, int64_t m, int64_t k, int64_t n, int part, int parts) {
  const int64_t panels = panels_of(n), pairs = (k + 1) / 2;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = panels * part / parts * PANEL; j < panels * (part + 1) / parts * PANEL && j < n; j++) {
      float c = 0;
      for (int64_t kk = 0; kk < k; kk++) c = fmaf(x[i * k + kk], bf16_value(wp[(((j / PANEL) * pairs + kk / 2) * PANEL + j % PANEL) * 2 + kk % 2]), c);
      out[i * n + j] = c;
    }
}
#endif
