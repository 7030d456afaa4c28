// Elementwise kernels of @cope/backend-native: binary ops with broadcasting, unary ops, softmax over the last
// axis, transposes and inner-axis reductions. Shapes arrive coalesced by the JS side (src/shapes.ts).
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "elementwise.h"

#define MAX_RANK 8

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

void unary(int op, const float* x, float* out, int64_t n) {
  switch (op) {
    case UOP_EXP: for (int64_t i = 0; i < n; i++) out[i] = expf(x[i]); break;
    case UOP_NEG: for (int64_t i = 0; i < n; i++) out[i] = -x[i]; break;
    case UOP_SIGMOID: for (int64_t i = 0; i < n; i++) out[i] = 1.0f / (1.0f + expf(-x[i])); break;
    case UOP_RSQRT: for (int64_t i = 0; i < n; i++) out[i] = 1.0f / sqrtf(x[i]); break;
    case UOP_SQRT: for (int64_t i = 0; i < n; i++) out[i] = sqrtf(x[i]); break;
    case UOP_SQUARE: for (int64_t i = 0; i < n; i++) out[i] = x[i] * x[i]; break;
    case UOP_LOG: for (int64_t i = 0; i < n; i++) out[i] = logf(x[i]); break;
    case UOP_RECIPROCAL: for (int64_t i = 0; i < n; i++) out[i] = 1.0f / x[i]; break;
    case UOP_ABS: for (int64_t i = 0; i < n; i++) out[i] = fabsf(x[i]); break;
    case UOP_TANH: for (int64_t i = 0; i < n; i++) out[i] = tanhf(x[i]); break;
    default: for (int64_t i = 0; i < n; i++) out[i] = NAN;
  }
}

void softmax_rows(const float* x, float* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    float* yr = out + r * cols;
    float m = -INFINITY;
    for (int64_t j = 0; j < cols; j++) m = xr[j] > m ? xr[j] : m;
    double s = 0;
    for (int64_t j = 0; j < cols; j++) { float e = expf(xr[j] - m); yr[j] = e; s += e; }
    const float sum = (float)s;
    for (int64_t j = 0; j < cols; j++) yr[j] /= sum;
  }
}

void reduce_rows(int op, const float* x, float* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    float acc;
    if (op == ROP_SUM || op == ROP_MEAN) {
      // Summed in double as tfjs-backend-cpu sums (a JS number), then rounded once.
      double sum = 0;
      for (int64_t j = 0; j < cols; j++) sum += xr[j];
      acc = (float)(op == ROP_MEAN ? sum / (double)cols : sum);
    } else if (op == ROP_MAX) {
      acc = -INFINITY;
      for (int64_t j = 0; j < cols; j++) if (xr[j] > acc || isnan(xr[j])) acc = xr[j];
    } else {
      acc = INFINITY;
      for (int64_t j = 0; j < cols; j++) if (xr[j] < acc || isnan(xr[j])) acc = xr[j];
    }
    out[r] = acc;
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
