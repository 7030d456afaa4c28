// See decode_session.h. The cache rows have `cap` positions each, so a step appends in place (no copy of the past).
#include <stdlib.h>
#include <string.h>
#include "decode_session.h"

struct decode_session {
  model_step_args m;
  decoder_step_args* layers;
  /* Each layer's keys [B, kvH, cap, hd] and transposed values [B, kvH, hd, cap]; the mask bias [B, cap]. */
  float **k, **vT, *bias;
  float *lora_scale, *scratch, *hidden;
  size_t scratch_floats;
  int64_t B, Tp, cap;
};

static size_t row_floats(const decoder_step_args* a, int64_t cap) { return (size_t)(a->kvH * a->hd * cap); }

/* Buffers for `cap` positions holding the first `Tp` of `from` (rows of `fromCap` positions); 0 when out of memory. */
static int place(decode_session* s, int64_t cap, float** k, float** vT, float** bias, float* const* fromK, float* const* fromV,
                 const float* fromBias, int64_t fromCap) {
  const int64_t B = s->B, Tp = s->Tp, L = s->m.L;
  int ok = (*bias = malloc(sizeof(float) * (size_t)(B * cap))) != NULL;
  for (int64_t l = 0; l < L; l++) {
    k[l] = ok ? malloc(sizeof(float) * (size_t)B * row_floats(&s->layers[l], cap)) : NULL;
    vT[l] = k[l] ? malloc(sizeof(float) * (size_t)B * row_floats(&s->layers[l], cap)) : NULL;
    ok = ok && vT[l];
  }
  if (!ok) {
    for (int64_t l = 0; l < L; l++) { free(k[l]); free(vT[l]); k[l] = vT[l] = NULL; }
    free(*bias);
    *bias = NULL;
    return 0;
  }
  for (int64_t b = 0; b < B; b++) memcpy(*bias + b * cap, fromBias + b * fromCap, sizeof(float) * (size_t)Tp);
  for (int64_t l = 0; l < L; l++) {
    const int64_t hd = s->layers[l].hd, rows = B * s->layers[l].kvH;
    for (int64_t bh = 0; bh < rows; bh++) {
      memcpy(k[l] + bh * cap * hd, fromK[l] + bh * fromCap * hd, sizeof(float) * (size_t)(Tp * hd));
      for (int64_t d = 0; d < hd; d++) memcpy(vT[l] + (bh * hd + d) * cap, fromV[l] + (bh * hd + d) * fromCap, sizeof(float) * (size_t)Tp);
    }
  }
  return 1;
}

static void free_cache(decode_session* s) {
  for (int64_t l = 0; s->k && l < s->m.L; l++) { free(s->k[l]); free(s->vT[l]); }
  free(s->bias);
}

decode_session* decode_session_open(const model_step_args* m, const float* bias, const float* lora_scale, int64_t capacity) {
  decode_session* s = calloc(1, sizeof *s);
  if (!s) return NULL;
  const decoder_step_args* first = &m->layers[0];
  s->m = *m;
  s->B = first->B;
  s->Tp = first->Tp;
  s->cap = capacity > s->Tp + 1 ? capacity : s->Tp + 1;
  s->layers = calloc((size_t)m->L, sizeof *s->layers);
  s->k = calloc((size_t)m->L, sizeof *s->k);
  s->vT = calloc((size_t)m->L, sizeof *s->vT);
  s->lora_scale = malloc(sizeof(float) * (size_t)s->B);
  s->hidden = malloc(sizeof(float) * (size_t)(3 * s->B * first->H));
  if (!s->layers || !s->k || !s->vT || !s->lora_scale || !s->hidden) { decode_session_close(s); return NULL; }
  memcpy(s->layers, m->layers, sizeof *s->layers * (size_t)m->L);
  s->m.layers = s->layers;
  if (lora_scale) memcpy(s->lora_scale, lora_scale, sizeof(float) * (size_t)s->B);
  // Copies of the given cache, read at their own layout (rows of Tp positions).
  float** fromK = malloc(sizeof(float*) * (size_t)m->L);
  float** fromV = malloc(sizeof(float*) * (size_t)m->L);
  int ok = fromK && fromV;
  for (int64_t l = 0; ok && l < m->L; l++) { fromK[l] = (float*)m->layers[l].k_past; fromV[l] = (float*)m->layers[l].vT_past; }
  ok = ok && place(s, s->cap, s->k, s->vT, &s->bias, fromK, fromV, bias, s->Tp);
  free(fromK);
  free(fromV);
  if (!ok) { decode_session_close(s); return NULL; }
  return s;
}

/* Room for one more position: the cache moved to buffers of twice the positions when full. 0 when out of memory. */
static int make_room(decode_session* s) {
  if (s->Tp + 1 <= s->cap) return 1;
  const int64_t L = s->m.L, cap = 2 * s->cap;
  float** k = calloc((size_t)L, sizeof *k);
  float** vT = calloc((size_t)L, sizeof *vT);
  float* bias = NULL;
  if (!k || !vT || !place(s, cap, k, vT, &bias, s->k, s->vT, s->bias, s->cap)) { free(k); free(vT); return 0; }
  free_cache(s);
  free(s->k);
  free(s->vT);
  s->k = k;
  s->vT = vT;
  s->bias = bias;
  s->cap = cap;
  return 1;
}

int decode_session_step(decode_session* s, const int32_t* ids, const float* cos, const float* sin, float* logits) {
  if (!make_room(s)) return -1;
  const int64_t B = s->B, H = s->layers[0].H;
  for (int64_t b = 0; b < B; b++) s->bias[b * s->cap + s->Tp] = 0.0f;
  float* between[2] = {s->hidden + B * H, s->hidden + 2 * B * H};
  for (int64_t l = 0; l < s->m.L; l++) {
    decoder_step_args* a = &s->layers[l];
    a->B = B;
    a->Tp = s->Tp;
    a->cap = s->cap;
    a->h = l == 0 ? s->hidden : between[(l - 1) % 2];
    a->h_out = between[l % 2];
    a->cos = cos;
    a->sin = sin;
    a->k_past = NULL;
    a->vT_past = NULL;
    a->k_out = s->k[l];
    a->vT_out = s->vT[l];
    a->attn_bias = s->bias;
    a->lora_scale = s->lora_scale;
  }
  // Scratch grows with the positions attended (kept rows only shrink it).
  const size_t need = model_step_scratch_floats(&s->m);
  if (need > s->scratch_floats) {
    float* grown = realloc(s->scratch, sizeof(float) * need);
    if (!grown) return -1;
    s->scratch = grown;
    s->scratch_floats = need;
  }
  s->m.ids = ids;
  s->m.logits = logits;
  s->m.scratch = s->scratch;
  const int r = model_step(&s->m);
  if (r == 0) s->Tp++;
  return r;
}

void decode_session_keep(decode_session* s, const int32_t* rows, int64_t n, const float* lora_scale) {
  // Rows only move down (rows[i] ≥ i), so moving them in order never overwrites one still to move.
  for (int64_t i = 0; i < n; i++) {
    if (rows[i] == i) continue;
    for (int64_t l = 0; l < s->m.L; l++) {
      const size_t row = row_floats(&s->layers[l], s->cap);
      memmove(s->k[l] + (size_t)i * row, s->k[l] + (size_t)rows[i] * row, sizeof(float) * row);
      memmove(s->vT[l] + (size_t)i * row, s->vT[l] + (size_t)rows[i] * row, sizeof(float) * row);
    }
    memmove(s->bias + i * s->cap, s->bias + rows[i] * s->cap, sizeof(float) * (size_t)s->cap);
  }
  if (lora_scale) memcpy(s->lora_scale, lora_scale, sizeof(float) * (size_t)n);
  s->B = n;
}

int64_t decode_session_rows(const decode_session* s) { return s->B; }

void decode_session_close(decode_session* s) {
  if (!s) return;
  free_cache(s);
  free(s->k);
  free(s->vT);
  free(s->layers);
  free(s->lora_scale);
  free(s->scratch);
  free(s->hidden);
  free(s);
}
