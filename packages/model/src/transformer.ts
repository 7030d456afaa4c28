import { tf } from './tf.js';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D } from './tf.js';
import type { ModelConfig } from './config.js';
import { keptTranspose } from './frozen-copies.js';
import { ropeTablesFor, Rotary } from './rope.js';
import { CausalBias } from './query-bias.js';
import { isTrainable, loraLinear, resolveAdapters, RowScales, type AdapterChoice, type RowAdapters } from './lora-linear.js';
import type { KvCache, LayerCache } from './kv-cache.js';
import type { CausalLM, LayerWeights, ModelWeights, ProjectionName } from './weights.js';
import type { Rng } from '@cope/core';
import type { Ops, QueryBias } from './ops/ops.js';
import { opsFor } from './ops/select.js';

export type { AdapterChoice } from './lora-linear.js';

export interface ForwardOptions {
  /** [batch][seq] of 1 (token) / 0 (padding) for the new tokens; all ones when omitted. Left padding is supported. */
  attentionMask?: number[][];
  /** Keys/values of earlier positions; the new tokens attend to them. Not disposed by forward. */
  cache?: KvCache;
  /** Return the cache extended with the new tokens. */
  useCache?: boolean;
  adapters?: AdapterChoice;
  /** Training mode: LoRA dropout is applied with seeds drawn from this RNG. */
  dropoutRng?: Rng;
  /**
   * Compute logits for the last position of each row only (decoding). The last layer's keys and values still
   * cover every position (the cache); its attention output, o_proj and MLP then run for the last positions only.
   */
  lastOnly?: boolean;
}

export interface ForwardResult {
  /** [batch, seq, vocab], or [batch, 1, vocab] with `lastOnly`. */
  logits: Tensor3D;
  cache?: KvCache;
}

/**
 * The query side of a layer: every position, or (the last layer of a `lastOnly` pass over several positions)
 * each row's last one.
 */
interface Queries {
  bias: QueryBias;
  scales: RowScales;
  rotary: Rotary;
  /** Row indices [B] of each row's last position in the [B·T] stream; set when only those are queried. */
  lastPositions?: Tensor1D;
}

/** What every layer of one forward pass shares. */
interface Pass {
  ops: Ops;
  c: ModelConfig;
  B: number;
  T: number;
  /** Key positions: cached plus new. */
  Tk: number;
  past?: KvCache;
  opts: ForwardOptions;
  rows: RowAdapters;
  /** Key rotation: every new position. */
  keys: Rotary;
  /** LoRA row scales of every new position (keys and values always cover them all). */
  allScales: RowScales;
  residual: (h: Tensor2D, x: Tensor2D) => Tensor2D;
  newCache: LayerCache[];
}

/**
 * Causal forward pass of a Llama-family model: embedding, the decoder layers, the final norm and the head.
 *
 * @param ids token ids [batch][seq] (all rows the same length; pad on the left for generation).
 * @returns logits [batch, seq, vocab] and, with `useCache`, the extended KV cache. Runs inside
 * `tf.tidy`; the returned tensors belong to the caller.
 */
export function forward(model: CausalLM, ids: number[][], opts: ForwardOptions = {}): ForwardResult {
  const c = model.config;
  checkIds(ids, c.vocabSize);
  const ops = opsFor();
  ops.beginForward();
  const B = ids.length;
  const T = ids[0].length;
  const past = opts.cache;
  const pastLen = past ? past.mask[0].length : 0;
  if (past && past.mask.length !== B) throw new Error(`forward: cache has ${past.mask.length} rows, ids have ${B}`);
  const newMask = opts.attentionMask ?? ids.map((r) => r.map(() => 1));
  const fullMask = newMask.map((m, b) => (past ? past.mask[b].concat(m) : m.slice()));
  const Tk = pastLen + T;
  const half = c.headDim / 2;
  const [cosHost, sinHost] = ropeTablesFor(c).lookup(realPositions(fullMask, pastLen));
  const rows = resolveAdapters(opts.adapters, B);
  // With lastOnly over several positions, the last layer's queries are each row's last position only: the
  // logits read nothing else from that layer past its keys and values (llama.cpp skips those rows the same way).
  const trimLast = !!opts.lastOnly && T > 1;

  return tf.tidy(() => {
    const ropeKernel = ops.ropeKernel(c.headDim);
    const keys = new Rotary(cosHost, sinHost, B, T, half, ropeKernel);
    const allScales = new RowScales(rows, B, T);
    const pass: Pass = { ops, c, B, T, Tk, past, opts, rows, keys, allScales, residual: ops.residualAdder(), newCache: [] };
    const allQueries: Queries = { bias: new CausalBias(fullMask, pastLen, T), scales: allScales, rotary: keys };
    const lastQueries: Queries | undefined = trimLast
      ? {
          bias: new CausalBias(fullMask, pastLen, T, true),
          scales: new RowScales(rows, B, 1),
          rotary: new Rotary(lastRows(cosHost, B, T, half), lastRows(sinHost, B, T, half), B, 1, half, ropeKernel),
          lastPositions: tf.tensor1d(Array.from({ length: B }, (_, b) => b * T + T - 1), 'int32'),
        }
      : undefined;
    const layers = model.weights.layers;
    const embedded = () => embed(ops, model.weights, tf.tensor1d(ids.flat(), 'int32')); // [B·T, H]
    const whole = wholeStep(pass, model.weights, ids, embedded, allQueries);
    if (whole) {
      const result: ForwardResult = { logits: whole.logits.reshape([B, 1, c.vocabSize]) as Tensor3D };
      if (opts.useCache) result.cache = { layers: whole.cache, mask: fullMask } as KvCache;
      return result as unknown as tf.TensorContainer;
    }
    let h = embedded();
    layers.forEach((layer, l) => {
      h = decoderLayer(pass, layer, l, h, lastQueries && l === layers.length - 1 ? lastQueries : allQueries);
    });
    // With lastOnly, h holds each row's last position already (trimmed in the last layer, or one token per row).
    const normed = ops.rmsNorm(h, model.weights.norm, c.rmsNormEps);
    const head = model.weights.lmHead;
    const logits = (isTrainable(head.kernel) ? ops.matmul(normed, head.kernel) : ops.frozenMatmul(normed, head)).reshape([B, opts.lastOnly ? 1 : T, c.vocabSize]) as Tensor3D;
    const result: ForwardResult = { logits };
    if (opts.useCache) result.cache = { layers: pass.newCache, mask: fullMask } as KvCache;
    return result as unknown as tf.TensorContainer;
  }) as unknown as ForwardResult;
}

/** One pre-norm decoder layer: `h + attention(norm(h))`, then `+ mlp(norm(·))`. h [B·T, H] → [rows queried, H]. */
function decoderLayer(pass: Pass, layer: LayerWeights, l: number, h: Tensor2D, queries: Queries): Tensor2D {
  const { ops, c } = pass;
  const step = decodingStep(pass, layer, l, h, queries);
  if (step) return step;
  const attn = selfAttention(pass, layer, l, ops.rmsNorm(h, layer.inputNorm, c.rmsNormEps), queries);
  if (queries.lastPositions) h = ops.gatherRows(h, queries.lastPositions);
  h = pass.residual(h, linear(pass, layer, l, attn, 'o_proj', queries.scales));
  return pass.residual(h, mlp(pass, layer, l, ops.rmsNorm(h, layer.postAttentionNorm, c.rmsNormEps), queries.scales));
}

/**
 * A decoding step's layer (one new token a row over a cache, no dropout) in one kernel where the backend has one:
 * bitwise the op-by-op layer, one kernel call instead of about 25. Null where it does not apply.
 */
function decodingStep(pass: Pass, layer: LayerWeights, l: number, h: Tensor2D, queries: Queries): Tensor2D | null {
  const { ops, c, B, T, Tk, past, opts } = pass;
  if (!ops.decoderStep || T !== 1 || !past || opts.dropoutRng || queries.lastPositions) return null;
  const r = ops.decoderStep({ layer, l, h, c, rows: pass.rows, scales: queries.scales, rotary: pass.keys, past: past.layers[l], bias: queries.bias, B, Tk });
  if (!r) return null;
  if (opts.useCache) pass.newCache.push({ k: r.k, vT: r.vT });
  return r.h;
}

/**
 * A decoding step (embedding, every layer, the final norm and the head) in one kernel where the backend has one:
 * bitwise the step layer by layer. Null where it does not apply.
 */
function wholeStep(pass: Pass, weights: ModelWeights, ids: number[][], embedded: () => Tensor2D, queries: Queries): { logits: Tensor2D; cache: LayerCache[] } | null {
  const { ops, c, B, T, Tk, past, opts } = pass;
  if (!ops.modelStep || T !== 1 || !past || opts.dropoutRng) return null;
  return ops.modelStep({ weights, ids: ids.flat(), embedded, c, rows: pass.rows, scales: queries.scales, rotary: pass.keys, past: past.layers, bias: queries.bias, B, Tk });
}

/** SwiGLU MLP: `down(silu(gate(y)) · up(y))`. */
function mlp(pass: Pass, layer: LayerWeights, l: number, y: Tensor2D, scales: RowScales): Tensor2D {
  const gate = linear(pass, layer, l, y, 'gate_proj', scales);
  return linear(pass, layer, l, pass.ops.swiGlu(gate, linear(pass, layer, l, y, 'up_proj', scales)), 'down_proj', scales);
}

/**
 * Grouped-query self-attention of the queries' positions over the cached and new keys; appends this layer's
 * keys and values to the cache when asked. x [B·T, H] → [rows queried, heads·hd] (before o_proj).
 */
function selfAttention(pass: Pass, layer: LayerWeights, l: number, x: Tensor2D, queries: Queries): Tensor2D {
  const { ops, c, B, T, Tk, past, opts, keys } = pass;
  const q = queries.lastPositions
    ? queries.rotary.apply(linear(pass, layer, l, ops.gatherRows(x, queries.lastPositions), 'q_proj', queries.scales), c.numHeads)
    : queries.rotary.apply(linear(pass, layer, l, x, 'q_proj'), c.numHeads);
  const k = keys.apply(linear(pass, layer, l, x, 'k_proj'), c.numKvHeads);
  const v = linear(pass, layer, l, x, 'v_proj').reshape([B, T, c.numKvHeads, c.headDim]);
  const oneQuery = T === 1 && ops.stepAttentionAlways;
  if (!opts.useCache && !past && !oneQuery) {
    // Training and scoring: straight to the product layouts.
    return ops.attention(q, tf.transpose(k, [0, 2, 3, 1]) as Tensor4D, tf.transpose(v, [0, 2, 1, 3]) as Tensor4D, queries.bias, c, B, Tk);
  }
  // Cache layout: keys [B, kvH, Tk, hd] and values transposed [B, kvH, hd, Tk], so the decoding step reduces over
  // the last axis. One new token per row: both layouts are the same memory order, so a reshape (no copy) does it.
  let kc = (T === 1 ? k.reshape([B, c.numKvHeads, 1, c.headDim]) : tf.transpose(k, [0, 2, 1, 3])) as Tensor4D;
  let vT = (T === 1 ? v.reshape([B, c.numKvHeads, c.headDim, 1]) : tf.transpose(v, [0, 2, 3, 1])) as Tensor4D;
  if (past) {
    kc = ops.appendPositions(past.layers[l].k, kc, 2);
    vT = ops.appendPositions(past.layers[l].vT, vT, 3);
  }
  if (opts.useCache) pass.newCache.push({ k: kc, vT });
  if (oneQuery) return ops.attentionStep(q, kc, vT, queries.bias, c, B, Tk);
  return ops.attention(q, tf.transpose(kc, [0, 1, 3, 2]) as Tensor4D, tf.transpose(vT, [0, 1, 3, 2]) as Tensor4D, queries.bias, c, B, Tk);
}

/** A projection of layer `l` with the pass's adapters (scales: the rows it runs for; default every position). */
function linear(pass: Pass, layer: LayerWeights, l: number, x: Tensor2D, p: ProjectionName, scales = pass.allScales): Tensor2D {
  return loraLinear(pass.ops, x, layer.proj[p], l, p, pass.rows, scales, pass.opts.dropoutRng);
}

/**
 * Embedding lookup `[N] → [N, H]`. Tied embeddings (no `embed`) read the head's `[H, V]` kernel: rows of its
 * kept transposed copy while the copy budget holds one, else its columns (copies either way, so the same values).
 * A trainable table on a backend without a scatter-add gets a one-hot-product gradient.
 */
function embed(ops: Ops, weights: ModelWeights, ids: Tensor1D): Tensor2D {
  const table = weights.embed;
  if (!table) {
    const kept = keptTranspose(weights.lmHead);
    if (kept) return ops.gatherRows(kept, ids);
    const columns = tf.gather(weights.lmHead.kernel, ids, 1) as Tensor2D; // [H, N]
    return ids.size === 1 ? columns.reshape([1, columns.shape[0]]) : ops.transpose(columns);
  }
  if (!isTrainable(table) || !ops.oneHotEmbeddingGrad) return ops.gatherRows(table, ids);
  const V = table.shape[0];
  // The ids are an input (and saved) so they outlive forward's tidy until the backward pass.
  const f = tf.customGrad(((t: Tensor, idx: Tensor, save: (ts: Tensor[]) => void) => {
    save([idx]);
    return {
      value: ops.gatherRows(t as Tensor2D, idx as Tensor1D),
      gradFunc: (dy: Tensor, saved: Tensor[]) => [
        tf.matMul(ops.transpose(tf.cast(tf.oneHot(saved[0] as Tensor1D, V), 'float32') as Tensor2D), dy as Tensor2D),
        tf.zerosLike(saved[0]),
      ],
    };
  }) as any);
  return f(table, ids) as Tensor2D;
}

function checkIds(ids: number[][], vocabSize: number): void {
  const T = ids[0]?.length ?? 0;
  if (ids.length === 0 || T === 0) throw new Error('forward: ids must be a non-empty [batch][seq] array');
  for (const row of ids) {
    if (row.length !== T) throw new Error(`forward: every row must have ${T} ids (got ${row.length}); pad the batch first`);
    for (const id of row) checkTokenId(id, vocabSize, 'forward');
  }
}

/** Throws, naming `who`, unless `id` is a token id of a vocabulary of `vocabSize`. */
export function checkTokenId(id: number, vocabSize: number, who: string): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`${who}: token id ${id} outside the vocabulary [0, ${vocabSize})`);
}

/**
 * The rotary positions of the new tokens, row after row. Positions count real tokens only, so left padding
 * does not shift them (transformers' rule: cumsum(mask) - 1, padding positions set to 1).
 */
function realPositions(fullMask: number[][], pastLen: number): number[] {
  const positions: number[] = [];
  for (const row of fullMask) {
    let seen = 0;
    row.forEach((m, j) => {
      if (m) seen++;
      if (j >= pastLen) positions.push(m ? seen - 1 : 1);
    });
  }
  return positions;
}

/** Each batch row's last row of a row-major [B·T, width] table: [B, width]. */
function lastRows(table: Float32Array, B: number, T: number, width: number): Float32Array {
  const out = new Float32Array(B * width);
  for (let b = 0; b < B; b++) out.set(table.subarray((b * T + T - 1) * width, (b * T + T) * width), b * width);
  return out;
}
