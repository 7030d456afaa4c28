// Elementwise kernels of @cope/backend-native: binary ops with broadcasting, unary ops, softmax over the last
// axis, transposes and inner-axis reductions. Shapes arrive coalesced by the JS side (src/shapes.ts).
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "elementwise.h"
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#define MAX_RANK 8

/*
 * expf in plain arithmetic the compiler vectorizes (Cephes' polynomial after a two-part ln 2 reduction, about
 * 1 ulp): libm's expf is a call per element. Below -87.3 the result is 0 (libm gives denormals there), above
 * 88.7 +inf; NaN stays NaN.
 */
static inline float fast_expf(float x) {
  const float hi = 88.7228391f, lo = -87.3365447f;
  float xc = x > hi ? hi : (x < lo ? lo : x);
  float n = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
  float r2 = r * r;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  float y = p * r2 + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, sizeof scale);
  y *= scale;
  y = x < lo ? 0.0f : y;
  y = x > hi ? __builtin_inff() : y;
  return x != x ? x : y;
}

static inline float apply_binary(int op, float x, float y) {
  switch (op) {
    case OP_ADD: return x + y;
    case OP_SUB: return x - y;
    case OP_MUL: return x * y;
    case OP_DIV: return x / y;
    case OP_MAX: return x > y || isnan(x) ? x : y;
    case OP_MIN: return x < y || isnan(x) ? x : y;
    case OP_SQDIFF: { float d = x - y; return d * d; }
    default: return NAN;
  }
}

// One inner run of a binary op: n elements, a and b each advancing by 1 or 0. The four cases are written out
// so the compiler vectorizes the common ones.
#define INNER(OPEXPR)                                                                              \
  if (sa == 1 && sb == 1) { for (int64_t i = 0; i < n; i++) { float x = a[i], y = b[i]; out[i] = OPEXPR; } } \
  else if (sa == 1 && sb == 0) { float y = b[0]; for (int64_t i = 0; i < n; i++) { float x = a[i]; out[i] = OPEXPR; } } \
  else if (sa == 0 && sb == 1) { float x = a[0]; for (int64_t i = 0; i < n; i++) { float y = b[i]; out[i] = OPEXPR; } } \
  else { for (int64_t i = 0; i < n; i++) { float x = a[i * sa], y = b[i * sb]; out[i] = OPEXPR; } }

static void binary_inner(int op, const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n) {
  switch (op) {
    case OP_ADD: INNER(x + y) break;
    case OP_SUB: INNER(x - y) break;
    case OP_MUL: INNER(x * y) break;
    case OP_DIV: INNER(x / y) break;
    default: for (int64_t i = 0; i < n; i++) out[i] = apply_binary(op, a[i * sa], b[i * sb]);
  }
}

void binary_broadcast(int op, const float* a, const float* b, float* out, int rank, const int64_t* shape,
                      const int64_t* stride_a, const int64_t* stride_b) {
  const int64_t n = shape[rank - 1];
  int64_t idx[MAX_RANK] = {0};
  int64_t outer = 1;
  for (int d = 0; d < rank - 1; d++) outer *= shape[d];
  int64_t oa = 0, ob = 0;
  for (int64_t o = 0; o < outer; o++) {
    binary_inner(op, a + oa, stride_a[rank - 1], b + ob, stride_b[rank - 1], out + o * n, n);
    // Odometer over the outer dims.
    for (int d = rank - 2; d >= 0; d--) {
      idx[d]++;
      oa += stride_a[d];
      ob += stride_b[d];
      if (idx[d] < shape[d]) break;
      oa -= stride_a[d] * shape[d];
      ob -= stride_b[d] * shape[d];
      idx[d] = 0;
    }
  }
}

void unary(int op, const float* restrict x, float* restrict out, int64_t n) {
  switch (op) {
    case UOP_EXP: for (int64_t i = 0; i < n; i++) out[i] = fast_expf(x[i]); break;
    case UOP_NEG: for (int64_t i = 0; i < n; i++) out[i] = -x[i]; break;
    case UOP_SIGMOID: for (int64_t i = 0; i < n; i++) out[i] = 1.0f / (1.0f + fast_expf(-x[i])); break;
    case UOP_RSQRT: for (int64_t i = 0; i < n; i++) out[i] = 1.0f / sqrtf(x[i]); break;
    case UOP_SQRT: for (int64_t i = 0; i < n; i++) out[i] = sqrtf(x[i]); break;
    case UOP_SQUARE: for (int64_t i = 0; i < n; i++) out[i] = x[i] * x[i]; break;
    case UOP_LOG: for (int64_t i = 0; i < n; i++) out[i] = logf(x[i]); break;
    case UOP_RECIPROCAL: for (int64_t i = 0; i < n; i++) out[i] = 1.0f / x[i]; break;
    case UOP_ABS: for (int64_t i = 0; i < n; i++) out[i] = fabsf(x[i]); break;
    case UOP_TANH: for (int64_t i = 0; i < n; i++) out[i] = tanhf(x[i]); break;
    case UOP_FLOOR: for (int64_t i = 0; i < n; i++) out[i] = floorf(x[i]); break;
    default: for (int64_t i = 0; i < n; i++) out[i] = NAN;
  }
}

/* The largest (sign 1) or smallest (sign -1) value of a row, NaN if any is NaN: 16 lanes at a time with AVX-512. */
static float row_extreme(const float* restrict x, int64_t n, float sign) {
  float m = -sign * INFINITY;
  int nan = 0;
  int64_t i = 0;
#ifdef __AVX512F__
  if (n >= 16) {
    __m512 acc = _mm512_set1_ps(m);
    __mmask16 unordered = 0;
    for (; i + 16 <= n; i += 16) {
      __m512 v = _mm512_loadu_ps(x + i);
      unordered |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      acc = sign > 0 ? _mm512_max_ps(acc, v) : _mm512_min_ps(acc, v);
    }
    m = sign > 0 ? _mm512_reduce_max_ps(acc) : _mm512_reduce_min_ps(acc);
    nan = unordered != 0;
  }
#endif
  for (; i < n; i++) {
    nan |= x[i] != x[i];
    m = (x[i] - m) * sign > 0 ? x[i] : m;
  }
  return nan ? NAN : m;
}

static float row_max(const float* restrict x, int64_t n) { return row_extreme(x, n, 1.0f); }
static float row_min(const float* restrict x, int64_t n) { return row_extreme(x, n, -1.0f); }

/* The sum of a row in double (as tfjs-backend-cpu sums, in a JS number), in 8 lanes the compiler vectorizes. */
static double row_sum(const float* restrict x, int64_t n) {
  double lanes[8] = {0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) for (int j = 0; j < 8; j++) lanes[j] += x[i + j];
  double s = 0;
  for (int j = 0; j < 8; j++) s += lanes[j];
  for (; i < n; i++) s += x[i];
  return s;
}

void softmax_rows(const float* restrict x, float* restrict out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    float* yr = out + r * cols;
    const float m = row_max(xr, cols);
    for (int64_t j = 0; j < cols; j++) yr[j] = fast_expf(xr[j] - m);
    const float sum = (float)row_sum(yr, cols);
    for (int64_t j = 0; j < cols; j++) yr[j] /= sum;
  }
}

void reduce_rows(int op, const float* x, float* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    switch (op) {
      case ROP_SUM: out[r] = (float)row_sum(xr, cols); break;
      case ROP_MEAN: out[r] = (float)(row_sum(xr, cols) / (double)cols); break;
      case ROP_MAX: out[r] = row_max(xr, cols); break;
      default: out[r] = row_min(xr, cols);
    }
  }
}

void transpose(const float* x, float* out, int rank, const int64_t* out_shape, const int64_t* in_stride) {
  const int64_t n = out_shape[rank - 1];
  const int64_t s = in_stride[rank - 1];
  int64_t idx[MAX_RANK] = {0};
  int64_t outer = 1;
  for (int d = 0; d < rank - 1; d++) outer *= out_shape[d];
  int64_t off = 0;
  for (int64_t o = 0; o < outer; o++) {
    float* dst = out + o * n;
    const float* src = x + off;
    if (s == 1) memcpy(dst, src, sizeof(float) * n);
    else for (int64_t i = 0; i < n; i++) dst[i] = src[i * s];
    for (int d = rank - 2; d >= 0; d--) {
      idx[d]++;
      off += in_stride[d];
      if (idx[d] < out_shape[d]) break;
      off -= in_stride[d] * out_shape[d];
      idx[d] = 0;
    }
  }
}

/* SplitMix64's output function: a well-mixed 64-bit value for each counter. */
static inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void dropout(const float* restrict x, float* restrict out, int64_t n, double rate, uint64_t seed) {
  const float scale = (float)(1.0 / (1.0 - rate));
  const uint64_t base = mix64(seed + 0x9e3779b97f4a7c15ULL);
  for (int64_t i = 0; i < n; i++) {
    // The top 24 bits as a uniform draw in [0, 1): element i is kept when it is at least `rate`.
    const float u = (float)(mix64(base + (uint64_t)i * 0x9e3779b97f4a7c15ULL) >> 40) * (1.0f / 16777216.0f);
    out[i] = u >= (float)rate ? x[i] * scale : 0.0f;
  }
}

/* log Σ exp(x) of a row, from its max and a double sum of the shifted exponentials. */
static double row_logsumexp(const float* restrict x, int64_t n) {
  const float m = row_max(x, n);
  if (m == -INFINITY || m != m) return m;
  double lanes[8] = {0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) for (int j = 0; j < 8; j++) lanes[j] += fast_expf(x[i + j] - m);
  double s = 0;
  for (int j = 0; j < 8; j++) s += lanes[j];
  for (; i < n; i++) s += fast_expf(x[i] - m);
  return (double)m + log(s);
}

void logsoftmax_pick(const float* restrict x, const int32_t* restrict targets, float* restrict out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    out[r] = (float)((double)xr[targets[r]] - row_logsumexp(xr, cols));
  }
}

void logsoftmax_pick_grad(const float* restrict x, const int32_t* restrict targets, const float* restrict dy, float* restrict out,
                          int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    float* yr = out + r * cols;
    const float lse = (float)row_logsumexp(xr, cols);
    const float g = dy[r];
    for (int64_t j = 0; j < cols; j++) yr[j] = -fast_expf(xr[j] - lse) * g;
    yr[targets[r]] += g;
  }
}

void rmsnorm_rows(const float* restrict x, const float* restrict w, float* restrict out, int64_t rows, int64_t h, float eps) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * h;
    float* yr = out + r * h;
    // As the op path computes it: float squares summed in double, the mean rounded, eps added, 1 / sqrt.
    double lanes[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= h; i += 8) for (int j = 0; j < 8; j++) { float sq = xr[i + j] * xr[i + j]; lanes[j] += sq; }
    double s = 0;
    for (int j = 0; j < 8; j++) s += lanes[j];
    for (; i < h; i++) { float sq = xr[i] * xr[i]; s += sq; }
    const float scale = 1.0f / sqrtf((float)(s / (double)h) + eps);
    for (int64_t j = 0; j < h; j++) yr[j] = (xr[j] * scale) * w[j];
  }
}

void swiglu(const float* restrict gate, const float* restrict up, float* restrict out, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float g = gate[i];
    out[i] = (g * (1.0f / (1.0f + fast_expf(-g)))) * up[i];
  }
}

void scaled_add(const float* restrict y, const float* restrict delta, const float* restrict scale, float* restrict out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float s = scale[r];
    // A row without the adapter keeps y as it is (y + delta · 0 could turn −0 into +0).
    if (s == 0.0f) memcpy(out + r * cols, y + r * cols, sizeof(float) * (size_t)cols);
    else for (int64_t j = 0; j < cols; j++) out[r * cols + j] = y[r * cols + j] + delta[r * cols + j] * s;
  }
}

void swiglu_grad(const float* restrict gate, const float* restrict up, const float* restrict dy, float* restrict dgate, float* restrict dup, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float g = gate[i];
    const float s = 1.0f / (1.0f + fast_expf(-g));
    const float silu = g * s;
    dup[i] = dy[i] * silu;
    dgate[i] = dy[i] * up[i] * (s * (1.0f + g * (1.0f - s)));
  }
}

void rmsnorm_grad(const float* restrict x, const float* restrict w, const float* restrict dy, float* restrict dx, float* restrict dw, int64_t rows, int64_t h, float eps) {
  for (int64_t j = 0; j < h; j++) dw[j] = 0;
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * h;
    const float* gr = dy + r * h;
    float* dr = dx + r * h;
    double s = 0, dot = 0;
    for (int64_t j = 0; j < h; j++) {
      s += (double)xr[j] * xr[j];
      dot += (double)gr[j] * w[j] * xr[j];
    }
    const double scale = 1.0 / sqrt(s / (double)h + eps);
    // d/dx of x·scale·w: scale·(dy·w) − x·scale³·Σ(dy·w·x)/h.
    const double k = scale * scale * scale * dot / (double)h;
    for (int64_t j = 0; j < h; j++) {
      dr[j] = (float)(scale * gr[j] * w[j] - xr[j] * k);
      dw[j] += (float)(gr[j] * xr[j] * scale);
    }
  }
}
