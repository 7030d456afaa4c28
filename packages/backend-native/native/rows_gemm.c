// Row-invariant products: see rows_gemm.h. Two loop shapes, one arithmetic: each out[i, j] starts at 0 and takes
// fma(x[i, kk], w[kk, j], ·) for kk = 0 .. k-1 in order. Partial sums parked in `out` between blocks of k are
// exact float32 values, so blocking never changes a result; neither does splitting columns over threads.
#include "rows_gemm.h"
#include <math.h>
#include "bf16.h"
#include <string.h>

/* Below this many multiply-adds a product stays on the calling thread (waking a helper costs more). */
#define THREADED_MIN_MACS (1 << 18)

#if defined(__AVX512F__)
#include <immintrin.h>

#define LOAD_F32(p, mk) _mm512_maskz_loadu_ps((mk), (p))
#define LOAD_BF16(p, mk) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16((mk), (p))), 16))

static inline __mmask16 tail_mask(int64_t left) { return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1); }

/*
 * Decoding shape (one or two rows): w streamed row after row, KP rows of it at a time, over columns [j0, j1);
 * each 16-column vector of out is read, advanced by KP terms and written back (it stays in L1/L2).
 */
#define KP 8
#define DEFINE_STREAM(NAME, T, LOADW)                                                                      \
  static void NAME(const float* x, const T* w, float* out, int rows, int64_t k, int64_t n, int64_t j0, int64_t j1) { \
    for (int64_t k0 = 0; k0 < k; k0 += KP) {                                                               \
      const int kp = (int)(k - k0 < KP ? k - k0 : KP);                                                     \
      __m512 a0[KP], a1[KP];                                                                               \
      for (int q = 0; q < kp; q++) {                                                                       \
        a0[q] = _mm512_set1_ps(x[k0 + q]);                                                                 \
        a1[q] = rows > 1 ? _mm512_set1_ps(x[k + k0 + q]) : a0[q];                                          \
      }                                                                                                    \
      for (int64_t j = j0; j < j1; j += 16) {                                                              \
        const __mmask16 mk = tail_mask(j1 - j);                                                            \
        __m512 c0 = k0 ? _mm512_maskz_loadu_ps(mk, out + j) : _mm512_setzero_ps();                         \
        __m512 c1 = rows > 1 && k0 ? _mm512_maskz_loadu_ps(mk, out + n + j) : _mm512_setzero_ps();         \
        if (kp == KP && rows == 1) {                                                                       \
          _Pragma("GCC unroll 8") for (int q = 0; q < KP; q++) c0 = _mm512_fmadd_ps(a0[q], LOADW(w + (k0 + q) * n + j, mk), c0); \
        } else if (kp == KP) {                                                                             \
          _Pragma("GCC unroll 8") for (int q = 0; q < KP; q++) {                                           \
            const __m512 b = LOADW(w + (k0 + q) * n + j, mk);                                              \
            c0 = _mm512_fmadd_ps(a0[q], b, c0);                                                            \
            c1 = _mm512_fmadd_ps(a1[q], b, c1);                                                            \
          }                                                                                                \
        } else {                                                                                           \
          for (int q = 0; q < kp; q++) {                                                                   \
            const __m512 b = LOADW(w + (k0 + q) * n + j, mk);                                              \
            c0 = _mm512_fmadd_ps(a0[q], b, c0);                                                            \
            c1 = _mm512_fmadd_ps(a1[q], b, c1);                                                            \
          }                                                                                                \
        }                                                                                                  \
        _mm512_mask_storeu_ps(out + j, mk, c0);                                                            \
        if (rows > 1) _mm512_mask_storeu_ps(out + n + j, mk, c1);                                          \
      }                                                                                                    \
    }                                                                                                      \
  }

/*
 * Many rows: a register tile of R rows × 16V columns over a block of k, w's block reused from cache by every
 * tile of rows. R and V are constants at each call site, so the tile lives in registers.
 */
#define RMAX 8
#define VMAX 6
#define DEFINE_TILE(NAME, T, LOADW)                                                                        \
  static inline __attribute__((always_inline)) void NAME##_tile(const int R, const int V, const float* x, int64_t ldx, \
      const T* w, int64_t n, float* out, int64_t k0, int64_t k1, const __mmask16* mk) {                    \
    __m512 acc[RMAX][VMAX];                                                                                \
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)                                                    \
      _Pragma("GCC unroll 6") for (int v = 0; v < V; v++)                                                  \
        acc[r][v] = k0 ? _mm512_maskz_loadu_ps(mk[v], out + r * n + 16 * v) : _mm512_setzero_ps();         \
    for (int64_t kk = k0; kk < k1; kk++) {                                                                 \
      const T* wk = w + kk * n;                                                                            \
      __m512 b[VMAX];                                                                                      \
      _Pragma("GCC unroll 6") for (int v = 0; v < V; v++) b[v] = LOADW(wk + 16 * v, mk[v]);                \
      _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {                                                \
        const __m512 a = _mm512_set1_ps(x[r * ldx + kk]);                                                  \
        _Pragma("GCC unroll 6") for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]); \
      }                                                                                                    \
    }                                                                                                      \
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)                                                    \
      _Pragma("GCC unroll 6") for (int v = 0; v < V; v++) _mm512_mask_storeu_ps(out + r * n + 16 * v, mk[v], acc[r][v]); \
  }                                                                                                        \
  static void NAME##_tiles(const float* x, const T* w, float* out, int64_t m, int64_t k, int64_t n, int64_t jb0, int64_t jb1) { \
    const int V = m > 4 ? 3 : 6, R = m > 4 ? 8 : 4;                                                        \
    const int64_t cols = 16 * V, kc = 256;                                                                 \
    for (int64_t jb = jb0; jb < jb1; jb++) {                                                               \
      const int64_t j0 = jb * cols;                                                                        \
      __mmask16 mk[VMAX];                                                                                  \
      for (int v = 0; v < VMAX; v++) mk[v] = tail_mask(n - j0 - 16 * v);                                   \
      for (int64_t k0 = 0; k0 < k; k0 += kc) {                                                             \
        const int64_t k1 = k - k0 < kc ? k : k0 + kc;                                                      \
        for (int64_t i0 = 0; i0 < m; i0 += R) {                                                            \
          const int64_t r = m - i0 < R ? m - i0 : R;                                                       \
          const float* xi = x + i0 * k;                                                                    \
          float* oi = out + i0 * n + j0;                                                                   \
          const T* wj = w + j0;                                                                            \
          if (V == 3) {                                                                                    \
            switch (r) {                                                                                   \
              case 8: NAME##_tile(8, 3, xi, k, wj, n, oi, k0, k1, mk); break;                              \
              case 7: NAME##_tile(7, 3, xi, k, wj, n, oi, k0, k1, mk); break;                              \
              case 6: NAME##_tile(6, 3, xi, k, wj, n, oi, k0, k1, mk); break;                              \
              case 5: NAME##_tile(5, 3, xi, k, wj, n, oi, k0, k1, mk); break;                              \
              case 4: NAME##_tile(4, 3, xi, k, wj, n, oi, k0, k1, mk); break;                              \
              case 3: NAME##_tile(3, 3, xi, k, wj, n, oi, k0, k1, mk); break;                              \
              case 2: NAME##_tile(2, 3, xi, k, wj, n, oi, k0, k1, mk); break;                              \
              default: NAME##_tile(1, 3, xi, k, wj, n, oi, k0, k1, mk); break;                             \
            }                                                                                              \
          } else if (r == 4) {                                                                             \
            NAME##_tile(4, 6, xi, k, wj, n, oi, k0, k1, mk);                                               \
          } else {                                                                                         \
            NAME##_tile(3, 6, xi, k, wj, n, oi, k0, k1, mk);                                               \
          }                                                                                                \
        }                                                                                                  \
      }                                                                                                    \
    }                                                                                                      \
  }

DEFINE_STREAM(stream_f32, float, LOAD_F32)
DEFINE_STREAM(stream_bf16, uint16_t, LOAD_BF16)
DEFINE_TILE(tiles_f32, float, LOAD_F32)
DEFINE_TILE(tiles_bf16, uint16_t, LOAD_BF16)

/* Columns per unit of a share: 16 streamed, or one tile's columns. */
static int64_t share_unit(int64_t m) { return m <= 2 ? 16 : 16 * (m > 4 ? 3 : 6); }

void rows_gemm_share_columns(int64_t m, int64_t n, int part, int parts, int64_t* j0, int64_t* j1) {
  const int64_t unit = share_unit(m), units = (n + unit - 1) / unit;
  const int64_t u0 = units * part / parts, u1 = units * (part + 1) / parts;
  *j0 = u0 * unit < n ? u0 * unit : n;
  *j1 = u1 * unit < n ? u1 * unit : n;
}

/* Share `part` of `parts` of the product: a range of whole column units (16 columns streamed, or one tile's columns). */
#define DEFINE_SHARE(NAME, T, STREAM, TILES)                                                               \
  void NAME(const float* x, const T* w, float* out, int64_t m, int64_t k, int64_t n, int part, int parts) { \
    if (m <= 0 || n <= 0 || parts < 1) return;                                                             \
    const int stream = m <= 2;                                                                             \
    const int64_t unit = share_unit(m);                                                                    \
    const int64_t units = (n + unit - 1) / unit;                                                           \
    const int64_t u0 = units * part / parts, u1 = units * (part + 1) / parts;                              \
    if (u0 >= u1) return;                                                                                  \
    if (k == 0) {                                                                                          \
      const int64_t j0 = u0 * unit, j1 = u1 * unit < n ? u1 * unit : n;                                    \
      for (int64_t i = 0; i < m; i++) memset(out + i * n + j0, 0, sizeof(float) * (size_t)(j1 - j0));      \
      return;                                                                                              \
    }                                                                                                      \
    if (stream) STREAM(x, w, out, (int)m, k, n, u0 * 16, u1 * 16 < n ? u1 * 16 : n);                       \
    else TILES(x, w, out, m, k, n, u0, u1);                                                                \
  }

/* The whole product, split over `threads` when it is large enough. */
#define DEFINE_DRIVER(NAME, T, SHARE)                                                                      \
  void NAME(const float* x, const T* w, float* out, int64_t m, int64_t k, int64_t n, int threads) {        \
    int parts = (double)m * (double)k * (double)n < THREADED_MIN_MACS || threads < 1 ? 1 : threads;        \
    _Pragma("omp parallel for num_threads(parts) schedule(static, 1) if(parts > 1)")                      \
    for (int p = 0; p < parts; p++) SHARE(x, w, out, m, k, n, p, parts);                                   \
  }

DEFINE_SHARE(rows_gemm_f32_share, float, stream_f32, tiles_f32_tiles)
DEFINE_SHARE(rows_gemm_bf16_share, uint16_t, stream_bf16, tiles_bf16_tiles)
DEFINE_DRIVER(rows_gemm_f32, float, rows_gemm_f32_share)
DEFINE_DRIVER(rows_gemm_bf16, uint16_t, rows_gemm_bf16_share)

#else
/* Without AVX-512: the same chains with scalar fmaf (fma rounds once, so the results are the same bits). */
void rows_gemm_share_columns(int64_t m, int64_t n, int part, int parts, int64_t* j0, int64_t* j1) {
  (void)m;
  *j0 = n * part / parts;
  *j1 = n * (part + 1) / parts;
}
void rows_gemm_f32_share(const float* x, const float* w, float* out, int64_t m, int64_t k, int64_t n, int part, int parts) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = n * part / parts; j < n * (part + 1) / parts; j++) {
      float c = 0;
      for (int64_t kk = 0; kk < k; kk++) c = fmaf(x[i * k + kk], w[kk * n + j], c);
      out[i * n + j] = c;
    }
}
void rows_gemm_bf16_share(const float* x, const uint16_t* w, float* out, int64_t m, int64_t k, int64_t n, int part, int parts) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = n * part / parts; j < n * (part + 1) / parts; j++) {
      float c = 0;
      for (int64_t kk = 0; kk < k; kk++) c = fmaf(x[i * k + kk], bf16_value(w[kk * n + j]), c);
      out[i * n + j] = c;
    }
}
void rows_gemm_f32(const float* x, const float* w, float* out, int64_t m, int64_t k, int64_t n, int threads) {
  (void)threads;
  rows_gemm_f32_share(x, w, out, m, k, n, 0, 1);
}
void rows_gemm_bf16(const float* x, const uint16_t* w, float* out, int64_t m, int64_t k, int64_t n, int threads) {
  (void)threads;
  rows_gemm_bf16_share(x, w, out, m, k, n, 0, 1);
}
#endif
