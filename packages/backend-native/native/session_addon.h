// The addon's decoding sessions (decode_session.h) as N-API functions.
#ifndef COPE_SESSION_ADDON_H
#define COPE_SESSION_ADDON_H
#include <node_api.h>

/*
 * sessionOpen(layers, dims, norm, head, eps, headBf16, embed, bias, capacity[, headPacked]): a session (an external)
 * over modelStep's layers, dims, norm and head (and its packed copy), with each layer's kPast and vTPast as the cache (Tp positions) and the LoRA row scales
 * (their h, cos, sin, bias and outputs null); embed [V, H] or null (a float32 head's columns); bias [B, Tp] the cached
 * positions' mask bias; room for `capacity` positions at first. The arrays are borrowed (and kept alive) until close.
 */
napi_value session_open(napi_env env, napi_callback_info info);
/* sessionStep(session, ids Int32Array [B], cos [B, hd/2], sin, logits [B, V]): one step, the cache grown in place. */
napi_value session_step(napi_env env, napi_callback_info info);
/* sessionKeep(session, rows Int32Array (increasing), loraScale [rows] or null): keeps those rows in that order. */
napi_value session_keep(napi_env env, napi_callback_info info);
/* sessionClose(session): frees the cache and releases the borrowed arrays (a finalizer does it if never called). */
napi_value session_close(napi_env env, napi_callback_info info);

#endif
