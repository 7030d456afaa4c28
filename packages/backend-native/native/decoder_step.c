#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "attention.h"
#include "decoder_step.h"
#include "elementwise.h"
#include "packed_gemm.h"
#include "rows_gemm.h"

/* Layers of fewer multiply-adds a row run on the calling thread. */
#define TEAM_MIN_MACS (1 << 20)
/* Whole steps of fewer multiply-adds run on the calling thread. */
#define MODEL_TEAM_MIN_MACS (1 << 20)

/*
 * This thread's share of y [B, out] = x [B, in] · W (the frozen product alone): from the packed copy for one or two rows
 * (the same columns and bits as rows_gemm's share, each thread's weights one stretch of memory), else the weight.
 */
static void product_share(const decoder_step_args* a, int p, const float* x, int64_t in, int64_t out, float* y, int part, int parts) {
  if (a->wp[p] && a->B <= 2) {
    if (a->bf16) packed_gemm_bf16_share(x, (const uint16_t*)a->wp[p], y, a->B, in, out, part, parts);
    else packed_gemm_f32_share(x, (const float*)a->wp[p], y, a->B, in, out, part, parts);
  } else if (a->bf16) rows_gemm_bf16_share(x, (const uint16_t*)a->w[p], y, a->B, in, out, part, parts);
  else rows_gemm_f32_share(x, (const float*)a->w[p], y, a->B, in, out, part, parts);
}

/*
 * The rest of a projection once its product is whole, on share `me` of `team` of its columns (rows_gemm's share of
 * [B, out]; 0 of 1: all): y + bias, then + LoRA ((x · A) · B) · scale[row] on the rows with a scale (the others keep y,
 * as the scaled-add kernel does), x · A alike on every thread, the products row-invariant so a row's update is what it
 * would be in any batch and on any team. `work`: this thread's, B·(in + r + out) floats. No OpenMP construct inside
 * (it runs in the team's serial sections too).
 */
static void finish(const decoder_step_args* a, int p, const float* x, int64_t in, int64_t out, float* y, float* work, int me, int team) {
  const int64_t B = a->B;
  int64_t j0, j1;
  rows_gemm_share_columns(B, out, me, team, &j0, &j1);
  if (p < 3 && a->bias[p]) {
    for (int64_t b = 0; b < B; b++) for (int64_t j = j0; j < j1; j++) y[b * out + j] = y[b * out + j] + a->bias[p][j];
  }
  if (!a->lora_a[p]) return;
  const int64_t r = a->lora_r[p];
  const float* scale = a->lora_scale;
  float* rows = work;
  int64_t n = 0;
  for (int64_t b = 0; b < B; b++) if (scale[b] != 0.0f) memcpy(rows + n++ * in, x + b * in, sizeof(float) * (size_t)in);
  if (n == 0) return;
  float* t = rows + n * in;
  float* delta = t + n * r;
  rows_gemm_f32_share(rows, a->lora_a[p], t, n, in, r, 0, 1);
  rows_gemm_f32_share(t, a->lora_b[p], delta, n, r, out, me, team);
  for (int64_t b = 0, i = 0; b < B; b++) {
    if (scale[b] == 0.0f) continue;
    for (int64_t j = j0; j < j1; j++) y[b * out + j] = y[b * out + j] + delta[i * out + j] * scale[b];
    i++;
  }
}

/* This thread's share of every product of projections `ps` of one input x; then the team waits for the whole products. */
static void products(const decoder_step_args* a, const int* ps, int count, const float* x, int64_t in, const int64_t* outs, float* const* ys, int me, int team) {
  for (int i = 0; i < count; i++) product_share(a, ps[i], x, in, outs[i], ys[i], me, team);
#pragma omp barrier
}

/* Biases and LoRA updates of projections `ps` (one thread). */
static void finish_all(const decoder_step_args* a, const int* ps, int count, const float* x, int64_t in, const int64_t* outs, float* const* ys, float* work) {
  for (int i = 0; i < count; i++) finish(a, ps[i], x, in, outs[i], ys[i], work, 0, 1);
}

/* Whether projection p has anything to add to its product (a bias or a LoRA pair). */
static int has_finish(const decoder_step_args* a, int p) { return (p < 3 && a->bias[p]) || a->lora_a[p]; }

static void add_rows(const float* x, const float* y, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = x[i] + y[i];
}

/* Floats of one thread's LoRA work in `finish`: B·(in + r + out) for the highest rank and the widest projections. */
static int64_t lora_work_floats(const decoder_step_args* a) {
  const int64_t H = a->H, F = a->F, qOut = a->heads * a->hd;
  int64_t maxR = 0;
  for (int p = 0; p < PROJ_COUNT; p++) if (a->lora_a[p] && a->lora_r[p] > maxR) maxR = a->lora_r[p];
  const int64_t widest = F > H ? (F > qOut ? F : qOut) : (H > qOut ? H : qOut);
  return a->B * (maxR + 2 * widest);
}

/* Floats of one thread's attention scratch: a pair's heads' scores over the positions, then their scaled queries. */
static int64_t attention_floats(const decoder_step_args* a) { return step_attention_scratch(a->Tp + 1, a->heads / a->kvH, a->hd); }

/*
 * Floats of a layer step's scratch: x, q, k, v, rotated q and k, attention, o, h1, gate, up, gated, down; each thread's
 * LoRA work (thread 0's serves the serial sections); each thread's attention scratch.
 */
static size_t scratch_floats(const decoder_step_args* a) {
  const int64_t B = a->B, H = a->H, hd = a->hd, F = a->F, qOut = a->heads * hd, kvOut = a->kvH * hd;
  return (size_t)(B * (3 * H + 2 * qOut + 3 * kvOut + qOut + H + 3 * F + H) + (lora_work_floats(a) + attention_floats(a)) * a->threads);
}

/* A layer step's multiply-adds. */
static double layer_macs(const decoder_step_args* a) {
  const int64_t H = a->H, qOut = a->heads * a->hd, kvOut = a->kvH * a->hd;
  return (double)a->B * (double)(H * (qOut + 2 * kvOut) + qOut * H + 3 * H * a->F);
}

/*
 * The layer step on one team of threads (called by each of its `team` threads, `me` among them, team ≤ a->threads):
 * each takes its columns of every product and its (row, kv head) pairs of the attention, so a row's outputs are the
 * same chains whatever the split; the small steps between run on one thread of the team. Ends with the team in step
 * (the last `single`'s barrier).
 */
static void layer_team(const decoder_step_args* a, float* buf, int me, int team) {
  const int64_t B = a->B, H = a->H, hd = a->hd, F = a->F, Tp = a->Tp, Tk = Tp + 1;
  const int64_t qOut = a->heads * hd, kvOut = a->kvH * hd, half = hd / 2;
  float *x = buf, *q = x + B * H, *k = q + B * qOut, *v = k + B * kvOut, *qr = v + B * kvOut, *kr = qr + B * qOut;
  float *attn = kr + B * kvOut, *o = attn + B * qOut, *h1 = o + B * H, *y = h1 + B * H, *gate = y + B * H;
  float *up = gate + B * F, *gated = up + B * F, *down = gated + B * F, *work = down + B * H, *scores = work + lora_work_floats(a) * a->threads;
  const int qkv[3] = {PROJ_Q, PROJ_K, PROJ_V}, oProj[1] = {PROJ_O}, gateUp[2] = {PROJ_GATE, PROJ_UP}, downProj[1] = {PROJ_DOWN};
  const int64_t qkvOuts[3] = {qOut, kvOut, kvOut}, hOut[1] = {H}, fOuts[2] = {F, F};
  float* const qkvYs[3] = {q, k, v};
#pragma omp single
  rmsnorm_rows(a->h, a->in_norm, x, B, H, a->eps);
  products(a, qkv, 3, x, H, qkvOuts, qkvYs, me, team);
  if (has_finish(a, PROJ_Q) || has_finish(a, PROJ_K) || has_finish(a, PROJ_V)) {
    // Biases and LoRA updates on each thread's columns, the whole rows ready for every thread's heads after.
    for (int i = 0; i < 3; i++) finish(a, qkv[i], x, H, qkvOuts[i], qkvYs[i], work + me * lora_work_floats(a), me, team);
#pragma omp barrier
  }
  // Each thread rotates and appends what its attention pairs read: a pair's query heads, and its key and value at
  // this position (after the past, unless the cache is kept in place: keys on the position axis, transposed values
  // on the last).
  const int64_t cap = a->cap, g = a->heads / a->kvH;
  for (int64_t bh = me; bh < B * a->kvH; bh += team) {
    const int64_t b = bh / a->kvH;
    rope_rows(q + bh * g * hd, a->cos + b * half, a->sin + b * half, qr + bh * g * hd, 1, g, half);
    rope_rows(k + bh * hd, a->cos + b * half, a->sin + b * half, kr + bh * hd, 1, 1, half);
    if (a->k_past) memcpy(a->k_out + bh * cap * hd, a->k_past + bh * Tp * hd, sizeof(float) * (size_t)(Tp * hd));
    memcpy(a->k_out + (bh * cap + Tp) * hd, kr + bh * hd, sizeof(float) * (size_t)hd);
    for (int64_t d = 0; d < hd; d++) {
      if (a->vT_past) memcpy(a->vT_out + (bh * hd + d) * cap, a->vT_past + (bh * hd + d) * Tp, sizeof(float) * (size_t)Tp);
      a->vT_out[(bh * hd + d) * cap + Tp] = v[bh * hd + d];
    }
  }
  step_attention_pairs(qr, a->k_out, a->vT_out, a->attn_bias, attn, scores + me * attention_floats(a), B, a->kvH, a->heads / a->kvH, Tk, a->cap, hd, a->scale, me, team);
#pragma omp barrier
  products(a, oProj, 1, attn, qOut, hOut, (float* const[]){o}, me, team);
#pragma omp single
  {
    finish_all(a, oProj, 1, attn, qOut, hOut, (float* const[]){o}, work);
    add_rows(a->h, o, h1, B * H);
    rmsnorm_rows(h1, a->post_norm, y, B, H, a->eps);
  }
  for (int i = 0; i < 2; i++) product_share(a, gateUp[i], y, H, F, i ? up : gate, me, team);
  if (has_finish(a, PROJ_GATE) || has_finish(a, PROJ_UP)) {
#pragma omp barrier
#pragma omp single
    {
      finish_all(a, gateUp, 2, y, H, fOuts, (float* const[]){gate, up}, work);
      swiglu(gate, up, gated, B * F);
    }
  } else {
    // The gating is elementwise: each thread gates the columns its products wrote.
    int64_t j0, j1;
    rows_gemm_share_columns(B, F, me, team, &j0, &j1);
    for (int64_t b = 0; b < B && j1 > j0; b++) swiglu(gate + b * F + j0, up + b * F + j0, gated + b * F + j0, j1 - j0);
#pragma omp barrier
  }
  products(a, downProj, 1, gated, F, hOut, (float* const[]){down}, me, team);
#pragma omp single
  {
    finish_all(a, downProj, 1, gated, F, hOut, (float* const[]){down}, work);
    add_rows(h1, down, a->h_out, B * H);
  }
}

int decoder_step(const decoder_step_args* a) {
  float* buf = malloc(sizeof(float) * scratch_floats(a));
  if (!buf) return -1;
  // A small layer stays on one thread (a team of its own per layer did not pay there: backend-native's README).
  const int threads = a->threads > 1 && layer_macs(a) >= TEAM_MIN_MACS ? a->threads : 1;
#pragma omp parallel num_threads(threads) if (threads > 1)
  layer_team(a, buf, omp_get_thread_num(), omp_get_num_threads());
  free(buf);
  return 0;
}

size_t model_step_scratch_floats(const model_step_args* m) {
  size_t most = 0;
  for (int64_t l = 0; l < m->L; l++) {
    const size_t f = scratch_floats(&m->layers[l]);
    if (f > most) most = f;
  }
  return most + (size_t)(m->layers[0].B * m->layers[0].H);
}

int model_step(const model_step_args* m) {
  const int64_t B = m->layers[0].B, H = m->layers[0].H;
  double macs = (double)B * (double)H * (double)m->V;
  for (int64_t l = 0; l < m->L; l++) macs += layer_macs(&m->layers[l]);
  const size_t floats = model_step_scratch_floats(m);
  float* buf = m->scratch ? m->scratch : malloc(sizeof(float) * floats);
  if (!buf) return -1;
  float* normed = buf + floats - (size_t)(B * H);
  // One team for the whole step: its threads meet at barriers between the products instead of starting a team a layer.
  const int threads = m->threads > 1 && macs >= MODEL_TEAM_MIN_MACS ? m->threads : 1;
  if (m->ids) {
    // The lookup copies values: the same bits as a gather of the table's rows or the head's columns.
    float* h0 = (float*)m->layers[0].h;
    for (int64_t b = 0; b < B; b++) {
      const int64_t id = m->ids[b];
      if (m->embed) memcpy(h0 + b * H, m->embed + id * H, sizeof(float) * (size_t)H);
      else for (int64_t i = 0; i < H; i++) h0[b * H + i] = ((const float*)m->head)[i * m->V + id];
    }
  }
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int me = omp_get_thread_num(), team = omp_get_num_threads();
    for (int64_t l = 0; l < m->L; l++) layer_team(&m->layers[l], buf, me, team);
#pragma omp single
    rmsnorm_rows(m->layers[m->L - 1].h_out, m->norm, normed, B, H, m->eps);
    if (m->head_packed && B <= 2) {
      if (m->head_bf16) packed_gemm_bf16_share(normed, (const uint16_t*)m->head_packed, m->logits, B, H, m->V, me, team);
      else packed_gemm_f32_share(normed, (const float*)m->head_packed, m->logits, B, H, m->V, me, team);
    } else if (m->head_bf16) rows_gemm_bf16_share(normed, (const uint16_t*)m->head, m->logits, B, H, m->V, me, team);
    else rows_gemm_f32_share(normed, (const float*)m->head, m->logits, B, H, m->V, me, team);
  }
  if (!m->scratch) free(buf);
  return 0;
}
