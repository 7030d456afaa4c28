// A decoding session: the KV cache of a batch kept in place with room to grow, and a whole step per call.
#ifndef COPE_DECODE_SESSION_H
#define COPE_DECODE_SESSION_H
#include <stdint.h>
#include "decoder_step.h"

typedef struct decode_session decode_session;

/*
 * A session over the model of `m` (its layers' weights, adapters, norms and head are borrowed: they must outlive it)
 * whose cache starts as each layer's k_past [B, kvH, Tp, hd] and vT_past [B, kvH, hd, Tp] (copied) with the mask
 * bias [B, Tp] (0: a token, else the masked value), LoRA row scales [B] (copied; NULL without an adapter), room for
 * `capacity` positions before the cache grows. The layers' h, cos, sin, attn_bias and outputs are ignored. NULL
 * when out of memory.
 */
decode_session* decode_session_open(const model_step_args* m, const float* bias, const float* lora_scale, int64_t capacity);

/*
 * One step: each row's new token ids [B] (embedded as model_step does) at the rotary angles cos, sin [B, hd/2], its
 * position appended to the cache; logits [B, V] out. Bitwise model_step over the same cache. 0, or -1 when out of
 * memory (the session is unchanged).
 */
int decode_session_step(decode_session* s, const int32_t* ids, const float* cos, const float* sin, float* logits);

/* Keeps rows `rows` [n] (strictly increasing, each below the row count), in that order, with LoRA row scales [n]. */
void decode_session_keep(decode_session* s, const int32_t* rows, int64_t n, const float* lora_scale);

/* Rows of the batch. */
int64_t decode_session_rows(const decode_session* s);

void decode_session_close(decode_session* s);

#endif
