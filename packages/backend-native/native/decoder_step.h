// One decoding step of a whole Llama-family decoder layer (one new token a row), in one call.
#ifndef COPE_DECODER_STEP_H
#define COPE_DECODER_STEP_H
#include <stddef.h>
#include <stdint.h>

/* The projections of a layer, in this order. */
enum { PROJ_Q = 0, PROJ_K, PROJ_V, PROJ_O, PROJ_GATE, PROJ_UP, PROJ_DOWN, PROJ_COUNT };

typedef struct {
  /* Rows, hidden size, query and key/value heads, head size, MLP size, cached positions. */
  int64_t B, H, heads, kvH, hd, F, Tp;
  float eps, scale;
  /* Projection weights [in, out]: float32, or bf16 bits when `bf16`. */
  int bf16;
  int threads;
  const float *h, *in_norm, *post_norm;
  const void* w[PROJ_COUNT];
  /* Panel-packed copies of the weights (packed_gemm.h), or NULL: read by steps of one or two rows. */
  const void* wp[PROJ_COUNT];
  /* q, k, v biases [out] (Qwen2), or NULL. */
  const float* bias[3];
  /* One LoRA adapter: A [in, r], B [r, out] per projection (NULL where it has none), and its scale per row [B]. */
  const float *lora_a[PROJ_COUNT], *lora_b[PROJ_COUNT];
  int64_t lora_r[PROJ_COUNT];
  const float* lora_scale;
  /*
   * Rotary tables of each row's position [B, hd/2]; the cache [B, kvH, Tp, hd] and [B, kvH, hd, Tp], or NULL when
   * k_out and vT_out hold it already (a cache kept in place); the mask [B, cap].
   */
  const float *cos, *sin, *k_past, *vT_past, *attn_bias;
  /* Positions allocated per row of k_out, vT_out and attn_bias: at least Tp + 1. */
  int64_t cap;
  /* Out: h [B, H]; the cache with the new position at Tp, [B, kvH, cap, hd] and [B, kvH, hd, cap]. */
  float *h_out, *k_out, *vT_out;
} decoder_step_args;

/*
 * h + attention(norm(h)), then + mlp(norm(·)), appending this position's keys and values to the cache: the same
 * kernels in the same order as the op-by-op step (row products, OpenBLAS LoRA products, RMSNorm, rotary embedding,
 * step attention, SwiGLU, scaled and plain adds), so bitwise its result. Returns 0, or -1 when out of memory.
 */
int decoder_step(const decoder_step_args* a);

typedef struct {
  /* Layers, in order: layer l reads layers[l].h and writes layers[l].h_out (the next layer's h). */
  int64_t L;
  decoder_step_args* layers;
  /* The final norm [H] and its eps; the head [H, V] (float32, or bf16 bits when `head_bf16`). */
  const float* norm;
  float eps;
  const void* head;
  int head_bf16;
  /* The head's panel-packed copy (packed_gemm.h), or NULL: read by steps of one or two rows. */
  const void* head_packed;
  int64_t V;
  int threads;
  /* Out: [B, V]. */
  float* logits;
  /*
   * With `ids` [B]: layer 0's h is written first with each id's embedding, a row of `embed` [V, H] or, without it, a
   * column of the float32 head. NULL: layer 0's h holds the embedded tokens already.
   */
  const int32_t* ids;
  const float* embed;
  /* model_step_scratch_floats(m) floats the step may use, or NULL (it allocates its own). */
  float* scratch;
} model_step_args;

/* The floats of scratch a model step needs. */
size_t model_step_scratch_floats(const model_step_args* m);

/*
 * A whole decoding step after the embedding: every layer's step, the final RMSNorm and the head's row-invariant
 * product, on one team of threads: bitwise the layer steps, the norm kernel and the head product run one by one.
 * Returns 0, or -1 when out of memory.
 */
int model_step(const model_step_args* m);

#endif
