// See vector_math_addon.h.
#include "vector_math_addon.h"
#include "napi_args.h"
#include "vector_math.h"

/* argv[i] as a Float32Array of at least n elements, n a multiple of 8; throws naming `who` otherwise. */
static float* block_arg(napi_env env, napi_value v, int64_t n, const char* who) {
  float* data;
  size_t length;
  if (!f32_arg(env, v, &data, &length) || n < 0 || n % 8 || (size_t)n > length) {
    napi_throw_range_error(env, NULL, who);
    return NULL;
  }
  return data;
}

static double number_arg(napi_env env, napi_value v) {
  double x = 0;
  napi_get_value_double(env, v, &x);
  return x;
}

static napi_value number(napi_env env, double x) {
  napi_value out;
  napi_create_double(env, x, &out);
  return out;
}

static napi_value vm_available_op(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, vector_math_available(), &out);
  return out;
}

static napi_value vm_max_op(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  const int64_t n = argc == 2 ? int_arg(env, argv[1]) : -1;
  float* a = block_arg(env, argv[0], n, "vmMax: expected (Float32Array, n: a multiple of 8 within it)");
  return a ? number(env, vm_max(a, n)) : NULL;
}

static napi_value vm_exp_shift_sum_op(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  const int64_t n = argc == 4 ? int_arg(env, argv[2]) : -1;
  const char* who = "vmExpShiftSum: expected (src, dst: Float32Arrays, n: a multiple of 8 within both, shift)";
  float* src = block_arg(env, argv[0], n, who);
  float* dst = src ? block_arg(env, argv[1], n, who) : NULL;
  return dst ? number(env, vm_exp_shift_sum(src, dst, n, (float)number_arg(env, argv[3]))) : NULL;
}

static napi_value vm_log_affine_op(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  const int64_t n = argc == 4 ? int_arg(env, argv[1]) : -1;
  float* a = block_arg(env, argv[0], n, "vmLogAffine: expected (Float32Array, n: a multiple of 8 within it, scale, offset)");
  if (a) vm_log_affine(a, n, (float)number_arg(env, argv[2]), (float)number_arg(env, argv[3]));
  return NULL;
}

static napi_value vm_affine_op(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  const int64_t n = argc == 5 ? int_arg(env, argv[2]) : -1;
  const char* who = "vmAffine: expected (src, dst: Float32Arrays, n: a multiple of 8 within both, scale, offset)";
  float* src = block_arg(env, argv[0], n, who);
  float* dst = src ? block_arg(env, argv[1], n, who) : NULL;
  if (dst) vm_affine(src, dst, n, (float)number_arg(env, argv[3]), (float)number_arg(env, argv[4]));
  return NULL;
}

static napi_value vm_sum_at_least_op(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  const int64_t n = argc == 3 ? int_arg(env, argv[1]) : -1;
  float* src = block_arg(env, argv[0], n, "vmSumAtLeast: expected (Float32Array, n: a multiple of 8 within it, threshold)");
  return src ? number(env, vm_sum_at_least(src, n, (float)number_arg(env, argv[2]))) : NULL;
}

static napi_value vm_log_contrast_op(napi_env env, napi_callback_info info) {
  GET_ARGS(8);
  const int64_t n = argc == 8 ? int_arg(env, argv[3]) : -1;
  const char* who = "vmLogContrastAtLeast: expected (src, sub, dst: Float32Arrays, n: a multiple of 8 within each, threshold, scale, offset, lam)";
  float* src = block_arg(env, argv[0], n, who);
  float* sub = src ? block_arg(env, argv[1], n, who) : NULL;
  float* dst = sub ? block_arg(env, argv[2], n, who) : NULL;
  if (dst) vm_log_contrast_at_least(src, sub, dst, n, (float)number_arg(env, argv[4]), (float)number_arg(env, argv[5]), (float)number_arg(env, argv[6]), number_arg(env, argv[7]));
  return NULL;
}

/* n for block_arg where the picks need at least one element (0 becomes a count block_arg refuses). */
static int64_t positive(int64_t n) { return n > 0 ? n : -1; }

/* argv[i] as a Float64Array of at least n elements; throws naming `who` otherwise. */
static double* f64_block(napi_env env, napi_value v, size_t n, const char* who) {
  double* data;
  size_t length;
  if (!f64_arg(env, v, &data, &length) || length < n) {
    napi_throw_range_error(env, NULL, who);
    return NULL;
  }
  return data;
}

static napi_value vm_greedy_pick_op(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  const int64_t n = argc == 4 ? int_arg(env, argv[1]) : -1;
  const char* who = "vmGreedyPick: expected (x: Float32Array, n: a positive multiple of 8 within it, out: Float64Array(2), threads)";
  float* x = block_arg(env, argv[0], positive(n), who);
  double* out = x ? f64_block(env, argv[2], 2, who) : NULL;
  if (!out) return NULL;
  int64_t token;
  out[1] = vm_greedy_pick(x, n, &token, (int)int_arg(env, argv[3]));
  out[0] = (double)token;
  return NULL;
}

static napi_value vm_contrastive_pick_op(napi_env env, napi_callback_info info) {
  GET_ARGS(9);
  const int64_t n = argc == 9 ? int_arg(env, argv[2]) : -1;
  const char* who =
      "vmContrastivePick: expected (expert, amateur: Float32Arrays, n: a positive multiple of 8 within each, pE, pA, scores: Float32Arrays of n, "
      "settings: Float64Array [lam, threshold, eps, logEps, maskedInf], out: Float64Array(2), threads)";
  float* arrays[5];
  for (int i = 0; i < 5; i++) {
    arrays[i] = block_arg(env, argv[i < 2 ? i : i + 1], positive(n), who);
    if (!arrays[i]) return NULL;
  }
  const double* s = f64_block(env, argv[6], 5, who);
  double* out = s ? f64_block(env, argv[7], 2, who) : NULL;
  if (!out) return NULL;
  const vm_contrast c = {.lam = s[0], .threshold = (float)s[1], .eps = s[2], .log_eps = s[3], .masked_inf = s[4] != 0};
  int64_t token;
  out[1] = vm_contrastive_pick(arrays[0], arrays[1], n, &c, arrays[2], arrays[3], arrays[4], &token, (int)int_arg(env, argv[8]));
  out[0] = (double)token;
  return NULL;
}

void define_vector_math(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
    {"vmAvailable", NULL, vm_available_op, NULL, NULL, NULL, napi_default, NULL},
    {"vmMax", NULL, vm_max_op, NULL, NULL, NULL, napi_default, NULL},
    {"vmExpShiftSum", NULL, vm_exp_shift_sum_op, NULL, NULL, NULL, napi_default, NULL},
    {"vmLogAffine", NULL, vm_log_affine_op, NULL, NULL, NULL, napi_default, NULL},
    {"vmAffine", NULL, vm_affine_op, NULL, NULL, NULL, napi_default, NULL},
    {"vmSumAtLeast", NULL, vm_sum_at_least_op, NULL, NULL, NULL, napi_default, NULL},
    {"vmLogContrastAtLeast", NULL, vm_log_contrast_op, NULL, NULL, NULL, napi_default, NULL},
    {"vmGreedyPick", NULL, vm_greedy_pick_op, NULL, NULL, NULL, napi_default, NULL},
    {"vmContrastivePick", NULL, vm_contrastive_pick_op, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
