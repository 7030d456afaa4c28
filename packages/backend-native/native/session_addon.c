// See session_addon.h.
#include "session_addon.h"
#include <stdlib.h>
#include "decode_session.h"
#include "napi_args.h"

/* The borrowed arrays' holders: layers, norm, head, embed, the packed head. */
#define HELD 5

typedef struct {
  decode_session* s;
  napi_ref held[HELD];
  /* Vocabulary, and floats of a rotary table's row (hd / 2), for the step's checks. */
  int64_t V, half;
} session_handle;

static void release(napi_env env, session_handle* h) {
  decode_session_close(h->s);
  h->s = NULL;
  for (int i = 0; i < HELD; i++) {
    if (h->held[i]) napi_delete_reference(env, h->held[i]);
    h->held[i] = NULL;
  }
}

static void finalize(napi_env env, void* data, void* hint) {
  (void)hint;
  release(env, data);
  free(data);
}

/* The open session of argument `v`; throws naming `who` and returns NULL when it is not one. */
static session_handle* open_session(napi_env env, napi_value v, const char* who) {
  void* data = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &data) != napi_ok || !data ||
      !((session_handle*)data)->s) {
    napi_throw_type_error(env, NULL, who);
    return NULL;
  }
  return data;
}

napi_value session_open(napi_env env, napi_callback_info info) {
  GET_ARGS(10);
  float *bias = NULL, *embed = NULL;
  size_t lb = 0, le = 0;
  napi_valuetype te;
  if ((argc != 9 && argc != 10) || !f32_arg(env, argv[7], &bias, &lb) || napi_typeof(env, argv[6], &te) != napi_ok ||
      (te != napi_null && !f32_arg(env, argv[6], &embed, &le))) {
    napi_throw_type_error(env, NULL, "sessionOpen: expected (layers, dims, norm, head, eps, headBf16, embed or null, bias, capacity[, headPacked])");
    return NULL;
  }
  const napi_value common[6] = {argv[0], argv[1], argv[2], argv[3], argv[4], argv[5]};
  model_step_args m;
  if (!model_args(env, common, &m, "sessionOpen", 1)) return NULL;
  const decoder_step_args* first = &m.layers[0];
  if ((int64_t)lb < first->B * first->Tp || (embed && (int64_t)le < m.V * first->H) || (!embed && m.head_bf16)) {
    free(m.layers);
    napi_throw_range_error(env, NULL, "sessionOpen: bias [B, Tp] and embed [V, H] (or a float32 head) expected");
    return NULL;
  }
  if (argc == 10 && !head_packed_arg(env, argv[9], &m, "sessionOpen")) {
    free(m.layers);
    return NULL;
  }
  m.embed = embed;
  session_handle* h = calloc(1, sizeof *h);
  decode_session* s = h ? decode_session_open(&m, bias, first->lora_scale, int_arg(env, argv[8])) : NULL;
  const int64_t V = m.V, half = first->hd / 2;
  free(m.layers);
  napi_value out;
  if (!s || napi_create_external(env, h, finalize, NULL, &out) != napi_ok) {
    decode_session_close(s);
    free(h);
    napi_throw_error(env, NULL, "sessionOpen: out of memory");
    return NULL;
  }
  h->s = s;
  h->V = V;
  h->half = half;
  const napi_value held[HELD] = {argv[0], argv[2], argv[3], argv[6], argc == 10 ? argv[9] : NULL};
  for (int i = 0; i < HELD; i++) {
    napi_valuetype t;
    if (held[i] && napi_typeof(env, held[i], &t) == napi_ok && t == napi_object) napi_create_reference(env, held[i], 1, &h->held[i]);
  }
  return out;
}

napi_value session_step(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  session_handle* h = argc == 5 ? open_session(env, argv[0], "sessionStep: expected an open session") : NULL;
  if (!h) return NULL;
  int32_t* ids;
  float *cos, *sin, *logits;
  size_t li, lc, ls, ll;
  if (!i32_arg(env, argv[1], &ids, &li) || !f32_arg(env, argv[2], &cos, &lc) || !f32_arg(env, argv[3], &sin, &ls) || !f32_arg(env, argv[4], &logits, &ll)) {
    napi_throw_type_error(env, NULL, "sessionStep: expected (session, ids Int32Array, cos, sin, logits Float32Array)");
    return NULL;
  }
  const int64_t B = decode_session_rows(h->s);
  int bad = (int64_t)li < B || (int64_t)lc < B * h->half || (int64_t)ls < B * h->half || (int64_t)ll < B * h->V;
  bad = bad || !ids_in_vocab(ids, B, h->V);
  if (bad) {
    napi_throw_range_error(env, NULL, "sessionStep: ids [B] in [0, V), cos and sin [B, hd/2], logits [B, V] expected");
    return NULL;
  }
  if (decode_session_step(h->s, ids, cos, sin, logits) != 0) napi_throw_error(env, NULL, "sessionStep: out of memory");
  return NULL;
}

napi_value session_keep(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  session_handle* h = argc == 3 ? open_session(env, argv[0], "sessionKeep: expected an open session") : NULL;
  if (!h) return NULL;
  int32_t* rows;
  float* scale = NULL;
  size_t lr, lsc = 0;
  napi_valuetype ts;
  if (!i32_arg(env, argv[1], &rows, &lr) || napi_typeof(env, argv[2], &ts) != napi_ok || (ts != napi_null && !f32_arg(env, argv[2], &scale, &lsc))) {
    napi_throw_type_error(env, NULL, "sessionKeep: expected (session, rows Int32Array, loraScale Float32Array or null)");
    return NULL;
  }
  const int64_t B = decode_session_rows(h->s), n = (int64_t)lr;
  int bad = n < 1 || (scale && (int64_t)lsc < n);
  for (int64_t i = 0; !bad && i < n; i++) bad = rows[i] < 0 || rows[i] >= B || (i > 0 && rows[i] <= rows[i - 1]);
  if (bad) {
    napi_throw_range_error(env, NULL, "sessionKeep: rows increasing within the session's rows, and a scale for each, expected");
    return NULL;
  }
  decode_session_keep(h->s, rows, n, scale);
  return NULL;
}

napi_value session_close(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  void* data = NULL;
  if (argc == 1 && napi_get_value_external(env, argv[0], &data) == napi_ok && data) release(env, data);
  return NULL;
}
