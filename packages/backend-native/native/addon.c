// N-API addon: the heavy products of @cope/backend-native, on OpenBLAS (Debian's libopenblas-dev).
// Every function works in place on Float32Arrays (or Uint16Arrays of bf16 bits) the caller owns: no copies.
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "elementwise.h"
#include "rows_gemm.h"
#include "attention.h"
#include "sgemm.h"
#include "decoder_step.h"
#include "napi_args.h"
#include "packed_gemm.h"
#include "session_addon.h"
#include "vector_math_addon.h"

/*
 * batchSgemm(a, b, c, batch, batchA, batchB, m, n, k, transA, transB, beta, threads)
 * c[i] = op(a[i % batchA]) · op(b[i % batchB]) + beta · c[i], row-major; op(a) is [m, k], op(b) [k, n].
 */
static napi_value batch_sgemm(napi_env env, napi_callback_info info) {
  GET_ARGS(13);
  if (argc != 13) { napi_throw_error(env, NULL, "batchSgemm: expected 13 arguments"); return NULL; }
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!f32_arg(env, argv[0], &a, &la) || !f32_arg(env, argv[1], &b, &lb) || !f32_arg(env, argv[2], &c, &lc)) {
    napi_throw_type_error(env, NULL, "batchSgemm: a, b and c must be Float32Arrays");
    return NULL;
  }
  int64_t batch = int_arg(env, argv[3]), batchA = int_arg(env, argv[4]), batchB = int_arg(env, argv[5]);
  int64_t m = int_arg(env, argv[6]), n = int_arg(env, argv[7]), k = int_arg(env, argv[8]);
  bool ta = false, tb = false;
  double beta = 0;
  napi_get_value_bool(env, argv[9], &ta);
  napi_get_value_bool(env, argv[10], &tb);
  napi_get_value_double(env, argv[11], &beta);
  if (batch < 1 || batchA < 1 || batchB < 1 || m < 0 || n < 0 || k < 0 ||
      (size_t)(batchA * m * k) > la || (size_t)(batchB * k * n) > lb || (size_t)(batch * m * n) > lc) {
    napi_throw_range_error(env, NULL, "batchSgemm: shapes do not fit the arrays");
    return NULL;
  }
  if (m == 0 || n == 0) return NULL;
  const sgemm_args g = {a, b, c, batchA, batchB, m, n, k, ta, tb, (float)beta};
  batch_sgemm_run(&g, batch, int_arg(env, argv[12]));
  return NULL;
}


/* Up to 8 dims from a Float64Array of integers. */
static int dims_arg(napi_env env, napi_value v, int64_t* out, size_t* rank) {
  double* d;
  if (!f64_arg(env, v, &d, rank) || *rank < 1 || *rank > 8) return 0;
  for (size_t i = 0; i < *rank; i++) out[i] = (int64_t)d[i];
  return 1;
}

/* binary(op, a, b, out, shape, strideA, strideB): out = a op b over the (coalesced) out shape. */
static napi_value binary(napi_env env, napi_callback_info info) {
  GET_ARGS(7);
  float *a, *b, *out;
  size_t la, lb, lo, rank, r2, r3;
  int64_t shape[8], sa[8], sb[8];
  if (argc != 7 || !f32_arg(env, argv[1], &a, &la) || !f32_arg(env, argv[2], &b, &lb) || !f32_arg(env, argv[3], &out, &lo) ||
      !dims_arg(env, argv[4], shape, &rank) || !dims_arg(env, argv[5], sa, &r2) || !dims_arg(env, argv[6], sb, &r3) || r2 != rank || r3 != rank) {
    napi_throw_type_error(env, NULL, "binary: bad arguments");
    return NULL;
  }
  int64_t total = 1, lastA = 0, lastB = 0;
  for (size_t d = 0; d < rank; d++) { total *= shape[d]; lastA += sa[d] * (shape[d] - 1); lastB += sb[d] * (shape[d] - 1); }
  if ((size_t)total > lo || (total > 0 && ((size_t)lastA >= la || (size_t)lastB >= lb))) {
    napi_throw_range_error(env, NULL, "binary: shapes do not fit the arrays");
    return NULL;
  }
  if (total > 0) binary_broadcast((int)int_arg(env, argv[0]), a, b, out, (int)rank, shape, sa, sb);
  return NULL;
}

/* unary(op, x, out). */
static napi_value unary_op(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  float *x, *out;
  size_t lx, lo;
  if (argc != 3 || !f32_arg(env, argv[1], &x, &lx) || !f32_arg(env, argv[2], &out, &lo) || lo < lx) {
    napi_throw_type_error(env, NULL, "unary: bad arguments");
    return NULL;
  }
  unary((int)int_arg(env, argv[0]), x, out, (int64_t)lx);
  return NULL;
}

/* rows(kind, op, x, out, rows, cols): kind 0 softmax (out [rows, cols]), 1 reduce (out [rows]). */
static napi_value rows_op(napi_env env, napi_callback_info info) {
  GET_ARGS(6);
  float *x, *out;
  size_t lx, lo;
  if (argc != 6 || !f32_arg(env, argv[2], &x, &lx) || !f32_arg(env, argv[3], &out, &lo)) {
    napi_throw_type_error(env, NULL, "rows: bad arguments");
    return NULL;
  }
  int64_t kind = int_arg(env, argv[0]), op = int_arg(env, argv[1]), rows = int_arg(env, argv[4]), cols = int_arg(env, argv[5]);
  if (rows < 0 || cols < 1 || (size_t)(rows * cols) > lx || (size_t)(kind == 0 ? rows * cols : rows) > lo) {
    napi_throw_range_error(env, NULL, "rows: shapes do not fit the arrays");
    return NULL;
  }
  if (kind == 0) softmax_rows(x, out, rows, cols);
  else reduce_rows((int)op, x, out, rows, cols);
  return NULL;
}

/* transpose(x, out, outShape, inStride): out[i...] = x[sum i_d * inStride_d]. */
static napi_value transpose_op(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  float *x, *out;
  size_t lx, lo, rank, r2;
  int64_t shape[8], stride[8];
  if (argc != 4 || !f32_arg(env, argv[0], &x, &lx) || !f32_arg(env, argv[1], &out, &lo) || !dims_arg(env, argv[2], shape, &rank) ||
      !dims_arg(env, argv[3], stride, &r2) || r2 != rank) {
    napi_throw_type_error(env, NULL, "transpose: bad arguments");
    return NULL;
  }
  int64_t total = 1, last = 0;
  for (size_t d = 0; d < rank; d++) { total *= shape[d]; last += stride[d] * (shape[d] - 1); }
  if ((size_t)total > lo || (total > 0 && (size_t)last >= lx)) {
    napi_throw_range_error(env, NULL, "transpose: shapes do not fit the arrays");
    return NULL;
  }
  if (total > 0) transpose(x, out, (int)rank, shape, stride);
  return NULL;
}

/* dropout(x, out, rate, seed): see elementwise.h. */
static napi_value dropout_op(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  float *x, *out;
  size_t lx, lo;
  double rate = 0, seed = 0;
  if (argc != 4 || !f32_arg(env, argv[0], &x, &lx) || !f32_arg(env, argv[1], &out, &lo) || lo < lx ||
      napi_get_value_double(env, argv[2], &rate) != napi_ok || napi_get_value_double(env, argv[3], &seed) != napi_ok || !(rate >= 0 && rate < 1)) {
    napi_throw_type_error(env, NULL, "dropout: expected (Float32Array, Float32Array, rate in [0, 1), seed)");
    return NULL;
  }
  dropout(x, out, (int64_t)lx, rate, (uint64_t)seed);
  return NULL;
}


/* logSoftmaxPick(x, targets, out, rows, cols) and, with dy, its gradient: see elementwise.h. */
static napi_value log_softmax_pick(napi_env env, napi_callback_info info) {
  GET_ARGS(6);
  float *x, *out, *dy = NULL;
  int32_t* targets;
  size_t lx, lo, lt, ld = 0;
  const int grad = argc == 6;
  if ((argc != 5 && argc != 6) || !f32_arg(env, argv[0], &x, &lx) || !i32_arg(env, argv[1], &targets, &lt) || !f32_arg(env, argv[2], &out, &lo) ||
      (grad && !f32_arg(env, argv[5], &dy, &ld))) {
    napi_throw_type_error(env, NULL, "logSoftmaxPick: bad arguments");
    return NULL;
  }
  int64_t rows = int_arg(env, argv[3]), cols = int_arg(env, argv[4]);
  if (rows < 0 || cols < 1 || (size_t)(rows * cols) > lx || (size_t)rows > lt || (size_t)(grad ? rows * cols : rows) > lo || (grad && (size_t)rows > ld)) {
    napi_throw_range_error(env, NULL, "logSoftmaxPick: shapes do not fit the arrays");
    return NULL;
  }
  for (int64_t r = 0; r < rows; r++) {
    if (targets[r] < 0 || targets[r] >= cols) { napi_throw_range_error(env, NULL, "logSoftmaxPick: a target is outside [0, cols)"); return NULL; }
  }
  if (grad) logsoftmax_pick_grad(x, targets, dy, out, rows, cols);
  else logsoftmax_pick(x, targets, out, rows, cols);
  return NULL;
}

/* fused(kind, a, b, c, out, rows, cols, eps): kind 0 RMSNorm (a x, b w), 1 SwiGLU (a gate, b up), 2 scaled add (a y, b delta, c scale). */
static napi_value fused(napi_env env, napi_callback_info info) {
  GET_ARGS(8);
  float *a, *b, *c = NULL, *out;
  size_t la, lb, lc = 0, lo;
  double eps = 0;
  int64_t kind = argc == 8 ? int_arg(env, argv[0]) : -1;
  if (argc != 8 || !f32_arg(env, argv[1], &a, &la) || !f32_arg(env, argv[2], &b, &lb) || !f32_arg(env, argv[4], &out, &lo) ||
      (kind == 2 && !f32_arg(env, argv[3], &c, &lc)) || napi_get_value_double(env, argv[7], &eps) != napi_ok || kind < 0 || kind > 2) {
    napi_throw_type_error(env, NULL, "fused: bad arguments");
    return NULL;
  }
  int64_t rows = int_arg(env, argv[5]), cols = int_arg(env, argv[6]);
  size_t n = (size_t)(rows * cols);
  if (rows < 0 || cols < 1 || la < n || lo < n || (kind == 0 ? lb < (size_t)cols : lb < n) || (kind == 2 && lc < (size_t)rows)) {
    napi_throw_range_error(env, NULL, "fused: shapes do not fit the arrays");
    return NULL;
  }
  if (kind == 0) rmsnorm_rows(a, b, out, rows, cols, (float)eps);
  else if (kind == 1) swiglu(a, b, out, (int64_t)n);
  else scaled_add(a, b, c, out, rows, cols);
  return NULL;
}

/*
 * rowsGemm(x, w, out, m, k, n, threads): out [m, n] = x [m, k] · w [k, n], w float32 or bf16 bits (Uint16Array); each
 * row's result independent of m (rows_gemm.h).
 */
static napi_value rows_gemm(napi_env env, napi_callback_info info) {
  GET_ARGS(7);
  float *x, *out, *wf = NULL;
  uint16_t* wb = NULL;
  size_t lx, lw, lo;
  if (argc != 7 || !f32_arg(env, argv[0], &x, &lx) || !f32_arg(env, argv[2], &out, &lo) ||
      !(f32_arg(env, argv[1], &wf, &lw) || u16_arg(env, argv[1], &wb, &lw))) {
    napi_throw_type_error(env, NULL, "rowsGemm: expected (Float32Array, Float32Array or Uint16Array, Float32Array, m, k, n, threads)");
    return NULL;
  }
  int64_t m = int_arg(env, argv[3]), k = int_arg(env, argv[4]), n = int_arg(env, argv[5]);
  if (m < 0 || k < 0 || n < 0 || (size_t)(m * k) > lx || (size_t)(k * n) > lw || (size_t)(m * n) > lo) {
    napi_throw_range_error(env, NULL, "rowsGemm: shapes do not fit the arrays");
    return NULL;
  }
  const int threads = (int)(int_arg(env, argv[6]) < 1 ? 1 : int_arg(env, argv[6]));
  if (wb) rows_gemm_bf16(x, wb, out, m, k, n, threads);
  else rows_gemm_f32(x, wf, out, m, k, n, threads);
  return NULL;
}

/* fusedGrad(kind, a, b, dy, outA, outB, rows, cols, eps): kind 0 RMSNorm (a x, b w → dx, dw [cols]), 1 SwiGLU (a gate, b up → dgate, dup). */
static napi_value fused_grad(napi_env env, napi_callback_info info) {
  GET_ARGS(9);
  float *a, *b, *dy, *oa, *ob;
  size_t la, lb, ld, loa, lob;
  double eps = 0;
  int64_t kind = argc == 9 ? int_arg(env, argv[0]) : -1;
  if (argc != 9 || kind < 0 || kind > 1 || !f32_arg(env, argv[1], &a, &la) || !f32_arg(env, argv[2], &b, &lb) || !f32_arg(env, argv[3], &dy, &ld) ||
      !f32_arg(env, argv[4], &oa, &loa) || !f32_arg(env, argv[5], &ob, &lob) || napi_get_value_double(env, argv[8], &eps) != napi_ok) {
    napi_throw_type_error(env, NULL, "fusedGrad: bad arguments");
    return NULL;
  }
  int64_t rows = int_arg(env, argv[6]), cols = int_arg(env, argv[7]);
  size_t n = (size_t)(rows * cols);
  if (rows < 0 || cols < 1 || la < n || ld < n || loa < n || (kind == 0 ? lb < (size_t)cols || lob < (size_t)cols : lb < n || lob < n)) {
    napi_throw_range_error(env, NULL, "fusedGrad: shapes do not fit the arrays");
    return NULL;
  }
  if (kind == 0) rmsnorm_grad(a, b, dy, oa, ob, rows, cols, (float)eps);
  else swiglu_grad(a, b, dy, oa, ob, (int64_t)n);
  return NULL;
}

/* rope(x, cos, sin, out, n, heads, half): see attention.h. */
static napi_value rope_op(napi_env env, napi_callback_info info) {
  GET_ARGS(7);
  float *x, *c, *s, *out;
  size_t lx, lc, ls, lo;
  if (argc != 7 || !f32_arg(env, argv[0], &x, &lx) || !f32_arg(env, argv[1], &c, &lc) || !f32_arg(env, argv[2], &s, &ls) || !f32_arg(env, argv[3], &out, &lo)) {
    napi_throw_type_error(env, NULL, "rope: bad arguments");
    return NULL;
  }
  int64_t n = int_arg(env, argv[4]), heads = int_arg(env, argv[5]), half = int_arg(env, argv[6]);
  if (n < 0 || heads < 1 || half < 1 || (size_t)(n * heads * 2 * half) > lx || (size_t)(n * heads * 2 * half) > lo || (size_t)(n * half) > lc || (size_t)(n * half) > ls) {
    napi_throw_range_error(env, NULL, "rope: shapes do not fit the arrays");
    return NULL;
  }
  rope_rows(x, c, s, out, n, heads, half);
  return NULL;
}

/* stepAttention(q, k, vT, bias, out, B, kvH, g, T, hd, scale): see attention.h. */
static napi_value step_attention_op(napi_env env, napi_callback_info info) {
  GET_ARGS(11);
  float *q, *k, *vT, *bias, *out;
  size_t lq, lk, lv, lb, lo;
  double scale = 0;
  if (argc != 11 || !f32_arg(env, argv[0], &q, &lq) || !f32_arg(env, argv[1], &k, &lk) || !f32_arg(env, argv[2], &vT, &lv) ||
      !f32_arg(env, argv[3], &bias, &lb) || !f32_arg(env, argv[4], &out, &lo) || napi_get_value_double(env, argv[10], &scale) != napi_ok) {
    napi_throw_type_error(env, NULL, "stepAttention: bad arguments");
    return NULL;
  }
  int64_t B = int_arg(env, argv[5]), kvH = int_arg(env, argv[6]), g = int_arg(env, argv[7]), T = int_arg(env, argv[8]), hd = int_arg(env, argv[9]);
  if (B < 0 || kvH < 1 || g < 1 || T < 1 || hd < 1 || (size_t)(B * kvH * g * hd) > lq || (size_t)(B * kvH * g * hd) > lo ||
      (size_t)(B * kvH * T * hd) > lk || (size_t)(B * kvH * T * hd) > lv || (size_t)(B * T) > lb) {
    napi_throw_range_error(env, NULL, "stepAttention: shapes do not fit the arrays");
    return NULL;
  }
  float* scratch = malloc(sizeof(float) * (size_t)step_attention_scratch(T, g, hd));
  if (!scratch) { napi_throw_error(env, NULL, "stepAttention: out of memory"); return NULL; }
  step_attention(q, k, vT, bias, out, scratch, B, kvH, g, T, T, hd, (float)scale);
  free(scratch);
  return NULL;
}

/*
 * decoderStep(arrays, dims): decoder_step.h's step. arrays: h, inNorm, postNorm, the 7 weights (Float32Array, or
 * Uint16Array of bf16 bits), q/k/v biases, 7 LoRA A, 7 LoRA B, LoRA row scales, cos, sin, kPast, vTPast, bias, hOut,
 * kOut, vTOut, and optionally the 7 weights' panel-packed copies (packPanels) (null where absent). dims: B, H, heads,
 * kvH, hd, F, Tp, eps, scale, bf16, threads, the 7 LoRA ranks.
 */
static napi_value decoder_step_op(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  double* d;
  size_t nd;
  if (argc != 2 || !f64_arg(env, argv[1], &d, &nd) || nd != 18) {
    napi_throw_type_error(env, NULL, "decoderStep: expected (36 or 43 arrays, Float64Array of 18 dims)");
    return NULL;
  }
  decoder_step_args a;
  if (!step_args(env, argv[0], d, &a, "decoderStep", 0)) return NULL;
  if (decoder_step(&a) != 0) napi_throw_error(env, NULL, "decoderStep: out of memory");
  return NULL;
}

/*
 * modelStep(layers, dims, norm, head, logits, eps, headBf16[, ids, embed[, headPacked]]): decoder_step.h's model_step. layers: each
 * layer's arrays as decoderStep takes them (layer l's hOut is layer l+1's h); dims: decoderStep's 18, for every
 * layer; norm [H]; head [H, V] (Float32Array, or Uint16Array of bf16 bits with headBf16); logits [B, V] out; ids
 * (Int32Array [B], or null: layer 0's h is given) with embed [V, H] (or null: the float32 head's columns).
 */
static napi_value model_step_op(napi_env env, napi_callback_info info) {
  GET_ARGS(10);
  model_step_args m;
  float* logits;
  size_t ll = 0;
  if ((argc != 7 && argc != 9 && argc != 10) || !f32_arg(env, argv[4], &logits, &ll)) {
    napi_throw_type_error(env, NULL, "modelStep: expected (layers: arrays of 36 or 43 arrays, Float64Array of 18 dims, norm, head, logits, eps, headBf16[, ids, embed[, headPacked]])");
    return NULL;
  }
  const napi_value common[6] = {argv[0], argv[1], argv[2], argv[3], argv[5], argv[6]};
  if (!model_args(env, common, &m, "modelStep", 0)) return NULL;
  const int64_t B = m.layers[0].B, H = m.layers[0].H, V = m.V;
  if ((int64_t)ll < B * V) {
    free(m.layers);
    napi_throw_range_error(env, NULL, "modelStep: logits do not fit [B, V]");
    return NULL;
  }
  if (argc == 10 && !head_packed_arg(env, argv[9], &m, "modelStep")) {
    free(m.layers);
    return NULL;
  }
  void* ids = NULL;
  void* embed = NULL;
  size_t li = 0, le = 0;
  if (argc >= 9) {
    napi_valuetype ti, te;
    napi_typeof(env, argv[7], &ti);
    napi_typeof(env, argv[8], &te);
    const int ok = (ti == napi_null || typed_arg(env, argv[7], napi_int32_array, &ids, &li)) && (te == napi_null || typed_arg(env, argv[8], napi_float32_array, &embed, &le));
    int bad = !ok || (ids && (int64_t)li < B) || (embed && (int64_t)le < V * H) || (ids && !embed && m.head_bf16);
    bad = bad || (ids && !ids_in_vocab(ids, B, V));
    if (bad) {
      free(m.layers);
      napi_throw_range_error(env, NULL, "modelStep: ids [B] in [0, V) with embed [V, H] (or a float32 head) expected");
      return NULL;
    }
  }
  m.logits = logits;
  m.ids = ids;
  m.embed = embed;
  const int r = model_step(&m);
  free(m.layers);
  if (r != 0) napi_throw_error(env, NULL, "modelStep: out of memory");
  return NULL;
}

/* transposeU16(src, dst, rows, cols): dst [cols, rows] = src [rows, cols]ᵀ for 16-bit values (bf16 weights), in tiles. */
static napi_value transpose_u16(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  uint16_t *src, *dst;
  size_t ls, ld;
  if (argc != 4 || !u16_arg(env, argv[0], &src, &ls) || !u16_arg(env, argv[1], &dst, &ld)) {
    napi_throw_type_error(env, NULL, "transposeU16: expected (Uint16Array, Uint16Array, rows, cols)");
    return NULL;
  }
  const int64_t rows = int_arg(env, argv[2]), cols = int_arg(env, argv[3]);
  if (rows < 0 || cols < 0 || (size_t)(rows * cols) > ls || (size_t)(rows * cols) > ld) {
    napi_throw_range_error(env, NULL, "transposeU16: shapes do not fit the arrays");
    return NULL;
  }
  const int64_t tile = 64;
  for (int64_t r0 = 0; r0 < rows; r0 += tile)
    for (int64_t c0 = 0; c0 < cols; c0 += tile)
      for (int64_t r = r0; r < r0 + tile && r < rows; r++)
        for (int64_t c = c0; c < c0 + tile && c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  return NULL;
}

/* packPanels(w, wp, k, n): wp = w [k, n] in 16-column panels (packed_gemm.h: bf16 panels pair rows); Float32Arrays, or Uint16Arrays of bf16 bits. */
static napi_value pack_panels(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  void *w = NULL, *wp = NULL;
  size_t lw = 0, lp = 0;
  const int f32 = argc == 4 && typed_arg(env, argv[0], napi_float32_array, &w, &lw) && typed_arg(env, argv[1], napi_float32_array, &wp, &lp);
  const int bf16 = !f32 && argc == 4 && typed_arg(env, argv[0], napi_uint16_array, &w, &lw) && typed_arg(env, argv[1], napi_uint16_array, &wp, &lp);
  if (!f32 && !bf16) {
    napi_throw_type_error(env, NULL, "packPanels: expected (w, wp: both Float32Array or both Uint16Array, k, n)");
    return NULL;
  }
  const int64_t k = int_arg(env, argv[2]), n = int_arg(env, argv[3]);
  if (k < 1 || n < 1 || (size_t)(k * n) > lw || (f32 ? packed_panels_size_f32(k, n) : packed_panels_size_bf16(k, n)) > lp) {
    napi_throw_range_error(env, NULL, "packPanels: shapes do not fit the arrays");
    return NULL;
  }
  if (f32) pack_panels_f32(w, wp, k, n);
  else pack_panels_bf16(w, wp, k, n);
  return NULL;
}

/* packedGemm(x, wp, out, m, k, n): out [m, n] = x [m, k] · w from its packed copy wp (packPanels), bitwise rowsGemm's product. */
static napi_value packed_gemm(napi_env env, napi_callback_info info) {
  GET_ARGS(6);
  float *x, *out;
  void* wp = NULL;
  size_t lx, lo, lw = 0;
  int bf16 = 0;
  if (argc != 6 || !f32_arg(env, argv[0], &x, &lx) || !f32_arg(env, argv[2], &out, &lo) ||
      !(typed_arg(env, argv[1], napi_float32_array, &wp, &lw) || (bf16 = typed_arg(env, argv[1], napi_uint16_array, &wp, &lw)))) {
    napi_throw_type_error(env, NULL, "packedGemm: expected (x, wp: Float32Array or Uint16Array, out, m, k, n)");
    return NULL;
  }
  const int64_t m = int_arg(env, argv[3]), k = int_arg(env, argv[4]), n = int_arg(env, argv[5]);
  if (m < 1 || k < 1 || n < 1 || (size_t)(m * k) > lx || (size_t)(m * n) > lo || (bf16 ? packed_panels_size_bf16(k, n) : packed_panels_size_f32(k, n)) > lw) {
    napi_throw_range_error(env, NULL, "packedGemm: shapes do not fit the arrays");
    return NULL;
  }
  if (bf16) packed_gemm_bf16_share(x, wp, out, m, k, n, 0, 1);
  else packed_gemm_f32_share(x, wp, out, m, k, n, 0, 1);
  return NULL;
}

/* config(): OpenBLAS's build description (version, target core). */
static napi_value get_config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  const char* s = openblas_get_config();
  napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &out);
  return out;
}

/* bf16ToF32(src, dst): dst[i] = the float32 whose upper 16 bits are src[i]. */
static napi_value bf16_to_f32(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  uint16_t* src;
  float* dst;
  size_t ls, ld;
  if (argc != 2 || !u16_arg(env, argv[0], &src, &ls) || !f32_arg(env, argv[1], &dst, &ld) || ld < ls) {
    napi_throw_type_error(env, NULL, "bf16ToF32: expected (Uint16Array, Float32Array of at least its length)");
    return NULL;
  }
  uint32_t* out = (uint32_t*)dst;
  for (size_t i = 0; i < ls; i++) out[i] = ((uint32_t)src[i]) << 16;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  // Threads are OpenMP's, per call (each product's `threads` argument): OpenBLAS's own pool stays unused.
  openblas_set_num_threads(1);
  napi_property_descriptor props[] = {
    {"batchSgemm", NULL, batch_sgemm, NULL, NULL, NULL, napi_default, NULL},
    {"config", NULL, get_config, NULL, NULL, NULL, napi_default, NULL},
    {"packPanels", NULL, pack_panels, NULL, NULL, NULL, napi_default, NULL},
    {"packedGemm", NULL, packed_gemm, NULL, NULL, NULL, napi_default, NULL},
    {"bf16ToF32", NULL, bf16_to_f32, NULL, NULL, NULL, napi_default, NULL},
    {"transposeU16", NULL, transpose_u16, NULL, NULL, NULL, napi_default, NULL},
    {"binary", NULL, binary, NULL, NULL, NULL, napi_default, NULL},
    {"unary", NULL, unary_op, NULL, NULL, NULL, napi_default, NULL},
    {"rows", NULL, rows_op, NULL, NULL, NULL, napi_default, NULL},
    {"transpose", NULL, transpose_op, NULL, NULL, NULL, napi_default, NULL},
    {"dropout", NULL, dropout_op, NULL, NULL, NULL, napi_default, NULL},
    {"logSoftmaxPick", NULL, log_softmax_pick, NULL, NULL, NULL, napi_default, NULL},
    {"fused", NULL, fused, NULL, NULL, NULL, napi_default, NULL},
    {"rowsGemm", NULL, rows_gemm, NULL, NULL, NULL, napi_default, NULL},
    {"fusedGrad", NULL, fused_grad, NULL, NULL, NULL, napi_default, NULL},
    {"rope", NULL, rope_op, NULL, NULL, NULL, napi_default, NULL},
    {"stepAttention", NULL, step_attention_op, NULL, NULL, NULL, napi_default, NULL},
    {"decoderStep", NULL, decoder_step_op, NULL, NULL, NULL, napi_default, NULL},
    {"modelStep", NULL, model_step_op, NULL, NULL, NULL, napi_default, NULL},
    {"sessionOpen", NULL, session_open, NULL, NULL, NULL, napi_default, NULL},
    {"sessionStep", NULL, session_step, NULL, NULL, NULL, napi_default, NULL},
    {"sessionKeep", NULL, session_keep, NULL, NULL, NULL, napi_default, NULL},
    {"sessionClose", NULL, session_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  define_vector_math(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
