// Rotary embedding and the decoding step's attention, each one pass over its inputs.
#ifndef COPE_ATTENTION_H
#define COPE_ATTENTION_H
#include <stdint.h>

/* x [n, heads, 2·half] rotated by cos, sin [n, half] (rotate_half): out = x·cos + rotate_half(x)·sin. */
void rope_rows(const float* x, const float* cos, const float* sin, float* out, int64_t n, int64_t heads, int64_t half);

/*
 * One query a row against the cache's first T positions: q [B, kvH·g, hd], k [B, kvH, cap, hd], vT [B, kvH, hd, cap],
 * bias [B, cap] → out [B, kvH·g, hd] = softmax(q·scale · kᵀ + bias) · v. `scratch`: step_attention_scratch(T, g, hd) floats.
 */
void step_attention(const float* q, const float* k, const float* vT, const float* bias, float* out, float* scratch,
                    int64_t B, int64_t kvH, int64_t g, int64_t T, int64_t cap, int64_t hd, float scale);

/* Floats of step_attention's scratch for T positions, g query heads a kv head, head size hd. */
int64_t step_attention_scratch(int64_t T, int64_t g, int64_t hd);

/* step_attention for the (row, kv head) pairs first, first + stride, …: the same values for each pair. */
void step_attention_pairs(const float* q, const float* k, const float* vT, const float* bias, float* out, float* scratch,
                          int64_t B, int64_t kvH, int64_t g, int64_t T, int64_t cap, int64_t hd, float scale, int64_t first, int64_t stride);

#endif
