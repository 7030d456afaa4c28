// Argument helpers shared by the addon's N-API functions: typed arrays, dims, a layer step's and a model step's arrays.
#ifndef COPE_NAPI_ARGS_H
#define COPE_NAPI_ARGS_H
#include <node_api.h>
#include <stdint.h>
#include "decoder_step.h"

/* The call's arguments as argv[0 .. n-1] (argc: how many were passed). */
#define GET_ARGS(n) \
  size_t argc = (n); \
  napi_value argv[(n)]; \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "cope-native: bad arguments to " #call); return NULL; } } while (0)

/* The data and length of a typed array argument of the given type; 0 for anything else. */
int typed_arg(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* length);
int f32_arg(napi_env env, napi_value v, float** data, size_t* length);
int u16_arg(napi_env env, napi_value v, uint16_t** data, size_t* length);
int i32_arg(napi_env env, napi_value v, int32_t** data, size_t* length);
int f64_arg(napi_env env, napi_value v, double** data, size_t* length);
/* Whether each of ids[0..n) is a token id of a vocabulary of V. */
int ids_in_vocab(const int32_t* ids, int64_t n, int64_t V);
/* An integer argument (-1 when it is not a number). */
int64_t int_arg(napi_env env, napi_value v);

/*
 * One layer step's arguments from 36 or 43 arrays (the last 7: packed weight copies) and 18 dims (see the addon's decoderStep); throws naming `who` (the
 * function) and returns 0 when they do not fit. `in_place`: the step's h, cos, sin, bias and outputs are not given
 * (a decoding session supplies them).
 */
int step_args(napi_env env, napi_value list, const double* d, decoder_step_args* a, const char* who, int in_place);

/*
 * A model step's arguments from argv[0..5] (layers, dims, norm, head, eps, headBf16; see the addon's modelStep) into
 * `m`, its layers calloc'ed into m->layers (the caller frees them). Throws naming `who` and returns 0 when they do
 * not fit (nothing to free then).
 */
int model_args(napi_env env, const napi_value* argv, model_step_args* m, const char* who, int in_place);

/* An optional packed copy of m's head (null or undefined: none) into m->head_packed; throws naming `who` and returns 0 when it does not fit. */
int head_packed_arg(napi_env env, napi_value v, model_step_args* m, const char* who);

#endif
