// See napi_args.h.
#include "napi_args.h"
#include "packed_gemm.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int typed_arg(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  return napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset) == napi_ok && type == want;
}

int f32_arg(napi_env env, napi_value v, float** data, size_t* length) { return typed_arg(env, v, napi_float32_array, (void**)data, length); }

int u16_arg(napi_env env, napi_value v, uint16_t** data, size_t* length) { return typed_arg(env, v, napi_uint16_array, (void**)data, length); }

int64_t int_arg(napi_env env, napi_value v) {
  int64_t x = -1;
  napi_get_value_int64(env, v, &x);
  return x;
}

int ids_in_vocab(const int32_t* ids, int64_t n, int64_t V) {
  for (int64_t i = 0; i < n; i++) if (ids[i] < 0 || ids[i] >= V) return 0;
  return 1;
}

int i32_arg(napi_env env, napi_value v, int32_t** data, size_t* length) { return typed_arg(env, v, napi_int32_array, (void**)data, length); }

int f64_arg(napi_env env, napi_value v, double** data, size_t* length) { return typed_arg(env, v, napi_float64_array, (void**)data, length); }

/* Element i of a JS array as a typed array of the given type (its data and length); null or undefined gives NULL. */
static int array_item(napi_env env, napi_value list, uint32_t i, napi_typedarray_type want, void** data, size_t* length) {
  napi_value v;
  napi_valuetype t;
  *data = NULL;
  *length = 0;
  if (napi_get_element(env, list, i, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) return 1;
  return typed_arg(env, v, want, data, length);
}

int step_args(napi_env env, napi_value list, const double* d, decoder_step_args* a, const char* who, int in_place) {
  uint32_t na = 0;
  char message[128];
  if (napi_get_array_length(env, list, &na) != napi_ok || (na != 36 && na != 36 + PROJ_COUNT)) {
    snprintf(message, sizeof message, "%s: expected (36 or 43 arrays, Float64Array of 18 dims)", who);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  memset(a, 0, sizeof *a);
  a->B = (int64_t)d[0]; a->H = (int64_t)d[1]; a->heads = (int64_t)d[2]; a->kvH = (int64_t)d[3]; a->hd = (int64_t)d[4];
  a->F = (int64_t)d[5]; a->Tp = (int64_t)d[6]; a->eps = (float)d[7]; a->scale = (float)d[8]; a->bf16 = d[9] != 0;
  a->threads = d[10] < 1 ? 1 : (int)d[10];
  const int64_t B = a->B, H = a->H, hd = a->hd, F = a->F, Tp = a->Tp, qOut = a->heads * hd, kvOut = a->kvH * hd;
  if (B < 1 || H < 1 || a->heads < 1 || a->kvH < 1 || a->heads % a->kvH || hd < 2 || hd % 2 || F < 1 || Tp < 0) {
    snprintf(message, sizeof message, "%s: bad dims", who);
    napi_throw_range_error(env, NULL, message);
    return 0;
  }
  const int64_t ins[PROJ_COUNT] = {H, H, H, qOut, H, H, F}, outs[PROJ_COUNT] = {qOut, kvOut, kvOut, H, F, F, H};
  // Each array and the floats it must hold at least (0: may be absent).
  struct { napi_typedarray_type type; int64_t need; int required; } spec[36 + PROJ_COUNT];
  const float* f[36 + PROJ_COUNT];
  void* raw[36 + PROJ_COUNT];
  for (int i = 0; i < 36 + PROJ_COUNT; i++) { spec[i].type = napi_float32_array; spec[i].need = 0; spec[i].required = 1; }
  spec[0].need = B * H; spec[1].need = H; spec[2].need = H;
  for (int p = 0; p < PROJ_COUNT; p++) {
    spec[3 + p].need = ins[p] * outs[p];
    if (a->bf16) spec[3 + p].type = napi_uint16_array;
    spec[36 + p].need = (int64_t)(a->bf16 ? packed_panels_size_bf16(ins[p], outs[p]) : packed_panels_size_f32(ins[p], outs[p]));
    spec[36 + p].required = 0;
    spec[36 + p].type = spec[3 + p].type;
    a->lora_r[p] = (int64_t)d[11 + p];
    spec[13 + p].need = ins[p] * a->lora_r[p]; spec[13 + p].required = 0;
    spec[20 + p].need = a->lora_r[p] * outs[p]; spec[20 + p].required = 0;
  }
  for (int p = 0; p < 3; p++) { spec[10 + p].need = outs[p]; spec[10 + p].required = 0; }
  spec[27].need = B; spec[27].required = 0;
  spec[28].need = B * hd / 2; spec[29].need = B * hd / 2;
  spec[30].need = B * kvOut * Tp; spec[31].need = B * kvOut * Tp; spec[32].need = B * (Tp + 1);
  spec[33].need = B * H; spec[34].need = B * kvOut * (Tp + 1); spec[35].need = B * kvOut * (Tp + 1);
  if (in_place) for (int i = 0; i < 36; i++) if (i == 0 || i == 28 || i == 29 || i >= 32) spec[i].need = 0;
  for (uint32_t i = 0; i < na; i++) {
    size_t length;
    if (!array_item(env, list, i, spec[i].type, &raw[i], &length) || (raw[i] == NULL && (spec[i].required && spec[i].need > 0)) ||
        (raw[i] != NULL && (int64_t)length < spec[i].need)) {
      snprintf(message, sizeof message, "%s: array %u is missing, of the wrong type or too short", who, i);
      napi_throw_range_error(env, NULL, message);
      return 0;
    }
    f[i] = raw[i];
  }
  for (int p = 0; p < PROJ_COUNT; p++) {
    if ((raw[13 + p] == NULL) != (raw[20 + p] == NULL) || (raw[13 + p] && (a->lora_r[p] < 1 || !raw[27]))) {
      snprintf(message, sizeof message, "%s: a LoRA pair needs both matrices, its rank and the row scales", who);
      napi_throw_range_error(env, NULL, message);
      return 0;
    }
  }
  a->h = f[0]; a->in_norm = f[1]; a->post_norm = f[2];
  for (int p = 0; p < PROJ_COUNT; p++) {
    a->w[p] = raw[3 + p];
    a->wp[p] = na > 36 ? raw[36 + p] : NULL;
    a->lora_a[p] = f[13 + p];
    a->lora_b[p] = f[20 + p];
  }
  for (int p = 0; p < 3; p++) a->bias[p] = f[10 + p];
  a->lora_scale = f[27]; a->cos = f[28]; a->sin = f[29]; a->k_past = f[30]; a->vT_past = f[31]; a->attn_bias = f[32];
  a->h_out = (float*)f[33]; a->k_out = (float*)f[34]; a->vT_out = (float*)f[35];
  a->cap = Tp + 1;
  return 1;
}

int model_args(napi_env env, const napi_value* argv, model_step_args* m, const char* who, int in_place) {
  char message[192];
  double* d;
  size_t nd, ln = 0, lh = 0;
  uint32_t L = 0;
  double eps = 0, headBf16 = 0;
  float* norm;
  void* head = NULL;
  bool isArray = false;
  if (napi_is_array(env, argv[0], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[0], &L) != napi_ok || L < 1 ||
      !f64_arg(env, argv[1], &d, &nd) || nd != 18 || !f32_arg(env, argv[2], &norm, &ln) ||
      napi_get_value_double(env, argv[4], &eps) != napi_ok || napi_get_value_double(env, argv[5], &headBf16) != napi_ok ||
      !typed_arg(env, argv[3], headBf16 != 0 ? napi_uint16_array : napi_float32_array, &head, &lh)) {
    snprintf(message, sizeof message, "%s: expected layers (arrays of 36 or 43 arrays), Float64Array of 18 dims, norm, head, eps, headBf16", who);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  decoder_step_args* layers = calloc(L, sizeof(decoder_step_args));
  if (!layers) { napi_throw_error(env, NULL, "cope-native: out of memory"); return 0; }
  for (uint32_t l = 0; l < L; l++) {
    napi_value list;
    if (napi_get_element(env, argv[0], l, &list) != napi_ok || !step_args(env, list, d, &layers[l], who, in_place)) { free(layers); return 0; }
  }
  const int64_t H = layers[0].H, V = H > 0 ? (int64_t)lh / H : 0;
  if ((int64_t)ln < H || V < 1) {
    free(layers);
    snprintf(message, sizeof message, "%s: norm or head do not fit [H], [H, V]", who);
    napi_throw_range_error(env, NULL, message);
    return 0;
  }
  memset(m, 0, sizeof *m);
  m->L = L; m->layers = layers; m->norm = norm; m->eps = (float)eps; m->head = head; m->head_bf16 = headBf16 != 0; m->V = V;
  m->threads = layers[0].threads;
  return 1;
}

int head_packed_arg(napi_env env, napi_value v, model_step_args* m, const char* who) {
  napi_valuetype t;
  void* data = NULL;
  size_t length = 0;
  m->head_packed = NULL;
  if (napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined)) return 1;
  const int64_t H = m->layers[0].H;
  const size_t need = m->head_bf16 ? packed_panels_size_bf16(H, m->V) : packed_panels_size_f32(H, m->V);
  if (!typed_arg(env, v, m->head_bf16 ? napi_uint16_array : napi_float32_array, &data, &length) || length < need) {
    char message[160];
    snprintf(message, sizeof message, "%s: the packed head must be a packed copy of the head (packPanels), of its type", who);
    napi_throw_range_error(env, NULL, message);
    return 0;
  }
  m->head_packed = data;
  return 1;
}
