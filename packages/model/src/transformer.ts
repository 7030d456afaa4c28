import { tf } from './tf.js';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D } from './tf.js';
import type { ModelConfig } from './config.js';
import { adapterMatmul, batchMatmul, keptTranspose, matmul2d, matmulFrozen, noteForwardStart, prefersPlain2d, splitFirstAxis, stackFirstAxis, taping, transposed } from './matmul.js';
import { loraScale, type LoraAdapter } from './lora-types.js';
import { RopeTables, Rotary } from './rope.js';
import { seededDropout } from './dropout.js';
import type { KvCache, LayerCache } from './kv-cache.js';
import type { CausalLM, Linear, ProjectionName } from './weights.js';
import type { Rng } from './rng.js';
import { stepAttention, stepAttentionAvailable } from './kernels/step-attention.js';
import { gatherRows, gatherRowsAvailable } from './kernels/gather-rows.js';
import { rmsNormAvailable, rmsNormRows } from './kernels/rms-norm.js';
import { swiGlu, swiGluAvailable } from './kernels/swiglu.js';
import { scaledAdd, scaledAddAvailable } from './kernels/scaled-add.js';
import { concatRows, concatRowsAvailable } from './kernels/concat-rows.js';

/**
 * Which LoRA adapter each batch row uses: one adapter (or none) for every row, or one entry per row.
 * Passing `null` runs the bare model, which is how adapters are disabled; passing another adapter
 * switches to it. Rows of one batch may use different adapters (contrastive decoding, scoring).
 */
export type AdapterChoice = LoraAdapter | null | undefined | ReadonlyArray<LoraAdapter | null>;

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

const ropeCache = new WeakMap<ModelConfig, RopeTables>();
function ropeFor(c: ModelConfig): RopeTables {
  let r = ropeCache.get(c);
  if (!r) ropeCache.set(c, (r = new RopeTables(c)));
  return r;
}

/**
 * Causal forward pass of a Llama-family model.
 *
 * @param ids token ids [batch][seq] (all rows the same length; pad on the left for generation).
 * @returns logits [batch, seq, vocab] and, with `useCache`, the extended KV cache. Runs inside
 * `tf.tidy`; the returned tensors belong to the caller.
 */
export function forward(model: CausalLM, ids: number[][], opts: ForwardOptions = {}): ForwardResult {
  const c = model.config;
  const B = ids.length;
  const T = ids[0]?.length ?? 0;
  if (B === 0 || T === 0) throw new Error('forward: ids must be a non-empty [batch][seq] array');
  for (const row of ids) {
    if (row.length !== T) throw new Error(`forward: every row must have ${T} ids (got ${row.length}); pad the batch first`);
    for (const id of row) {
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new Error(`forward: token id ${id} outside the vocabulary [0, ${c.vocabSize})`);
    }
  }
  noteForwardStart();
  const past = opts.cache;
  const pastLen = past ? past.mask[0].length : 0;
  if (past && past.mask.length !== B) throw new Error(`forward: cache has ${past.mask.length} rows, ids have ${B}`);
  const newMask = opts.attentionMask ?? ids.map((r) => r.map(() => 1));
  const fullMask = newMask.map((m, b) => (past ? past.mask[b].concat(m) : m.slice()));
  const Tk = pastLen + T;

  // Positions count real tokens only, so left padding does not shift them (transformers' rule:
  // cumsum(mask) - 1, padding positions set to 1).
  const positions: number[] = [];
  for (let b = 0; b < B; b++) {
    let seen = 0;
    for (let j = 0; j < Tk; j++) {
      if (fullMask[b][j]) seen++;
      if (j >= pastLen) positions.push(fullMask[b][j] ? seen - 1 : 1);
    }
  }
  const [cosHost, sinHost] = ropeFor(c).lookup(positions);
  const bias = new Float32Array(B * T * Tk);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const i = pastLen + t;
      for (let j = 0; j < Tk; j++) bias[(b * T + t) * Tk + j] = j <= i && fullMask[b][j] ? 0 : -1e9;
    }
  }
  const rows = resolveAdapters(opts.adapters, B);
  // With lastOnly over several positions, the last layer's queries are each row's last position only: the
  // logits read nothing else from that layer past its keys and values (llama.cpp skips those rows the same way).
  const trimLast = !!opts.lastOnly && T > 1;
  const lastBias = trimLast ? lastRows(bias, B, T, Tk) : bias;

  return tf.tidy(() => {
    const half = c.headDim / 2;
    const rotary = new Rotary(cosHost, sinHost, B, T, half);
    // Built on first use: the wasm training path masks per slice from the host array instead.
    let attnBiasTensor: Tensor | undefined;
    const attnBias = () => (attnBiasTensor ??= tf.tensor4d(bias, [B, 1, T, Tk]).reshape([B, 1, 1, T, Tk]));
    const oneQuery = T === 1 && prefersPlain2d();
    const rowScales = new RowScales(rows, B, T);
    const idTensor = tf.tensor1d(ids.flat(), 'int32');
    let h = embedLookup(model.weights, idTensor); // [B*T, H]
    const newCache: LayerCache[] = [];
    const lastLayer = model.weights.layers.length - 1;
    // The queries' side of a layer: every position, or (the last layer under trimLast) each row's last one.
    const allQueries = { T, scales: rowScales, biasHost: bias, bias: attnBias };
    let lastBiasTensor: Tensor | undefined;
    const lastQueries = trimLast
      ? { T: 1, scales: new RowScales(rows, B, 1), biasHost: lastBias, bias: () => (lastBiasTensor ??= tf.tensor4d(lastBias, [B, 1, 1, Tk]).reshape([B, 1, 1, 1, Tk])) }
      : allQueries;
    const lastPositions = trimLast ? tf.tensor1d(Array.from({ length: B }, (_, b) => b * T + T - 1), 'int32') : undefined;
    // The last positions' rotation: their rows of the tables.
    const lastRotary = trimLast ? new Rotary(lastRows(cosHost, B, T, half), lastRows(sinHost, B, T, half), B, 1, half) : undefined;
    const residual = new ResidualAdd();
    model.weights.layers.forEach((layer, l) => {
      const trim = trimLast && l === lastLayer;
      const qs = trim ? lastQueries : allQueries;
      const lin = (x: Tensor2D, p: ProjectionName, scales = rowScales) => linear(x, layer.proj[p], l, p, rows, scales, opts.dropoutRng);
      const x = rmsNorm(h, layer.inputNorm, c.rmsNormEps);
      // Trimmed, the queries are projected and rotated for the last positions only (each row is its own product).
      const q = trim ? lastRotary!.apply(lin(lookupRows(x, lastPositions!), 'q_proj', qs.scales), c.numHeads) : rotary.apply(lin(x, 'q_proj'), c.numHeads);
      const k = rotary.apply(lin(x, 'k_proj'), c.numKvHeads);
      const v = lin(x, 'v_proj').reshape([B, T, c.numKvHeads, c.headDim]);
      if (trim) h = lookupRows(h, lastPositions!);
      let attn: Tensor2D;
      if (!opts.useCache && !past && !oneQuery) {
        // Training and scoring: straight to the matmul layouts.
        const kT = tf.transpose(k, [0, 2, 3, 1]) as Tensor4D; // [B, kvH, hd, T]
        const vv = tf.transpose(v, [0, 2, 1, 3]) as Tensor4D; // [B, kvH, T, hd]
        attn = attention(q, kT, vv, qs.bias, qs.biasHost, c, B, qs.T, Tk);
      } else {
        // Cache layout: keys [B, kvH, Tk, hd] and values transposed [B, kvH, hd, Tk], so the decoding
        // step reduces over the last axis (wasm reduces other axes through a transpose).
        // One new token per row: both layouts are the same memory order, so a reshape (no copy) does it.
        let kc = (T === 1 ? k.reshape([B, c.numKvHeads, 1, c.headDim]) : tf.transpose(k, [0, 2, 1, 3])) as Tensor4D;
        let vT = (T === 1 ? v.reshape([B, c.numKvHeads, c.headDim, 1]) : tf.transpose(v, [0, 2, 3, 1])) as Tensor4D;
        if (past) {
          kc = appendPositions(past.layers[l].k, kc, 2);
          vT = appendPositions(past.layers[l].vT, vT, 3);
        }
        if (opts.useCache) newCache.push({ k: kc, vT });
        attn = oneQuery
          ? attentionOneQuery(q, kc, vT, attnBias, c, B, Tk)
          : attention(q, tf.transpose(kc, [0, 1, 3, 2]) as Tensor4D, tf.transpose(vT, [0, 1, 3, 2]) as Tensor4D, qs.bias, qs.biasHost, c, B, qs.T, Tk);
      }
      h = residual.add(h, lin(attn, 'o_proj', qs.scales));
      const y = rmsNorm(h, layer.postAttentionNorm, c.rmsNormEps);
      const gate = lin(y, 'gate_proj', qs.scales);
      const gated = swiGluGate(gate, lin(y, 'up_proj', qs.scales));
      h = residual.add(h, lin(gated, 'down_proj', qs.scales));
    });
    // With lastOnly, h holds each row's last position already (trimmed in the last layer, or one token per row).
    const outT = opts.lastOnly ? 1 : T;
    const normed = rmsNorm(h, model.weights.norm, c.rmsNormEps);
    const head = model.weights.lmHead;
    const logits = (isTrainable(head.kernel) ? matmul2d(normed, head.kernel) : matmulFrozen(normed, head)).reshape([B, outT, c.vocabSize]) as Tensor3D;
    const result: ForwardResult = { logits };
    if (opts.useCache) result.cache = { layers: newCache, mask: fullMask } as KvCache;
    return result as unknown as tf.TensorContainer;
  }) as unknown as ForwardResult;
}

/**
 * The residual stream's `h + x` [N, H]. Outside a gradient tape on wasm it is the scaled-add kernel with a
 * scale of 1 per row: x · 1 is x exactly, so the sums are the backend's Add bit for bit, without the several
 * µs a call that Add costs on small tensors (16 calls in a small model's decoding step). The scales are made
 * on first use, inside forward's tidy.
 */
class ResidualAdd {
  private readonly ones = new Map<number, Tensor1D>();

  add(h: Tensor2D, x: Tensor2D): Tensor2D {
    const [n, width] = h.shape;
    if (taping() || !scaledAddAvailable(width)) return tf.add(h, x);
    let one = this.ones.get(n);
    if (!one) this.ones.set(n, (one = tf.ones([n]) as Tensor1D));
    return scaledAdd(h, x, one);
  }
}

/** Each batch row's last row of a row-major [B·T, width] table: [B, width]. */
function lastRows(table: Float32Array, B: number, T: number, width: number): Float32Array {
  const out = new Float32Array(B * width);
  for (let b = 0; b < B; b++) out.set(table.subarray((b * T + T - 1) * width, (b * T + T) * width), b * width);
  return out;
}

/** True for a tf.Variable being trained (full-parameter mode); frozen weights take the cheaper path. */
function isTrainable(t: tf.Tensor): boolean {
  return t instanceof tf.Variable && t.trainable;
}

/** Rows of `table` at `ids` (int32, in range): one bulk copy a row on wasm, the backend's gather elsewhere. */
function lookupRows(table: Tensor2D, ids: tf.Tensor1D): Tensor2D {
  return gatherRowsAvailable() ? gatherRows(table, ids) : (tf.gather(table, ids) as Tensor2D);
}

/**
 * Embedding lookup `[N] → [N, H]`. Tied embeddings (no `embed`) read the head's `[H, V]` kernel: rows of its
 * kept transposed copy while the copy budget holds one, else its columns (0.1 ms a token at Qwen2-0.5B's size;
 * copies either way, so the same values). A trainable table on wasm gets a custom gradient (one-hot product):
 * wasm has no UnsortedSegmentSum kernel, which gather's own gradient needs.
 */
function embedLookup(weights: CausalLM['weights'], ids: tf.Tensor1D): Tensor2D {
  const embed = weights.embed;
  if (!embed) {
    const table = keptTranspose(weights.lmHead);
    if (table) return lookupRows(table, ids);
    const columns = tf.gather(weights.lmHead.kernel, ids, 1) as Tensor2D; // [H, N]
    return ids.size === 1 ? columns.reshape([1, columns.shape[0]]) : transposed(columns);
  }
  if (!isTrainable(embed) || !prefersPlain2d()) return lookupRows(embed, ids);
  const V = embed.shape[0];
  // The ids are an input (and saved) so they outlive forward's tidy until the backward pass.
  const f = tf.customGrad(((table: tf.Tensor, idx: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
    save([idx]);
    return {
      value: lookupRows(table as Tensor2D, idx as tf.Tensor1D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        tf.matMul(transposed(tf.cast(tf.oneHot(saved[0] as tf.Tensor1D, V), 'float32') as Tensor2D), dy as Tensor2D),
        tf.zerosLike(saved[0]),
      ],
    };
  }) as any);
  return f(embed, ids) as Tensor2D;
}

/**
 * The cache tensor `past` with `next` appended along `axis` (2 for keys [B, kvH, T, hd], 3 for transposed
 * values [B, kvH, hd, T]): on wasm two bulk copies per row of the 2-D views (the axes before `axis` are the
 * rows), else the backend's concat.
 */
function appendPositions(past: Tensor4D, next: Tensor4D, axis: 2 | 3): Tensor4D {
  if (taping() || !concatRowsAvailable()) return tf.concat([past, next], axis) as Tensor4D;
  const rows = past.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const out = concatRows(past.reshape([rows, -1]) as Tensor2D, next.reshape([rows, -1]) as Tensor2D);
  const shape = [...past.shape] as [number, number, number, number];
  shape[axis] += next.shape[axis];
  return out.reshape(shape) as Tensor4D;
}

/** SwiGLU's gating `gate · sigmoid(gate) · up`: one kernel on wasm outside a gradient tape, the backend's ops otherwise. */
function swiGluGate(gate: Tensor2D, up: Tensor2D): Tensor2D {
  if (!taping() && swiGluAvailable(gate.size)) return swiGlu(gate, up);
  return tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as Tensor2D;
}

/** RMSNorm over the last axis: one kernel on wasm outside a gradient tape, the backend's ops otherwise. */
function rmsNorm(x: Tensor2D, w: Tensor1D, eps: number): Tensor2D {
  if (!taping() && rmsNormAvailable(x.shape[1])) return rmsNormRows(x, w, eps);
  const variance = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), w);
}

/**
 * Grouped-query attention. q [B, T, heads, hd]; kT [B, kvH, hd, Tk]; v [B, kvH, Tk, hd].
 * The query heads sharing one kv head are stacked so each (batch, kv head) is one 2-D product.
 * @returns [B*T, heads*hd]
 */
function attention(q: Tensor4D, kT: Tensor4D, v: Tensor4D, bias: () => Tensor, biasHost: Float32Array, c: ModelConfig, B: number, T: number, Tk: number): Tensor2D {
  const g = c.numHeads / c.numKvHeads;
  const kvH = c.numKvHeads;
  const hd = c.headDim;
  const qg = tf.transpose(tf.mul(q, 1 / Math.sqrt(hd)).reshape([B, T, kvH, g, hd]), [0, 2, 3, 1, 4]).reshape([B * kvH, g * T, hd]) as Tensor3D;
  if (prefersPlain2d()) return attentionPerSlice(qg, kT, v, biasHost, c, B, T, Tk);
  const scores = batchMatmul(qg, kT.reshape([B * kvH, hd, Tk]) as Tensor3D).reshape([B, kvH, g, T, Tk]);
  const probs = tf.softmax(tf.add(scores, bias())).reshape([B * kvH, g * T, Tk]) as Tensor3D;
  const out = batchMatmul(probs, v.reshape([B * kvH, Tk, hd]) as Tensor3D).reshape([B, kvH, g, T, hd]);
  return tf.transpose(out, [0, 3, 1, 2, 4]).reshape([B * T, c.numHeads * hd]) as Tensor2D;
}

/**
 * The wasm layout of {@link attention}: slicing tensors is slow on wasm (~40M floats/s), so only the inputs
 * (q, k, v) and the output gradient are sliced; scores, mask, softmax and probabilities stay per
 * (batch, kv head) slice from the start (the probabilities are the largest tensor: g·T×Tk per slice).
 */
function attentionPerSlice(qg: Tensor3D, kT: Tensor4D, v: Tensor4D, biasHost: Float32Array, c: ModelConfig, B: number, T: number, Tk: number): Tensor2D {
  const g = c.numHeads / c.numKvHeads;
  const kvH = c.numKvHeads;
  const hd = c.headDim;
  const G = B * kvH;
  const qs = splitFirstAxis(qg, G);
  const ks = splitFirstAxis(kT.reshape([G, hd, Tk]), G);
  const vs = splitFirstAxis(v.reshape([G, Tk, hd]), G);
  const biases = Array.from({ length: B }, (_, b) => tf.tensor3d(biasHost.subarray(b * T * Tk, (b + 1) * T * Tk), [1, T, Tk]));
  const outs = qs.map((qi, i) => {
    const scores = matmul2d(qi.reshape([g * T, hd]) as Tensor2D, ks[i].reshape([hd, Tk]) as Tensor2D).reshape([g, T, Tk]);
    const probs = tf.softmax(tf.add(scores, biases[Math.floor(i / kvH)])).reshape([g * T, Tk]) as Tensor2D;
    return matmul2d(probs, vs[i].reshape([Tk, hd]) as Tensor2D);
  });
  const out = stackFirstAxis(outs).reshape([B, kvH, g, T, hd]);
  return tf.transpose(out, [0, 3, 1, 2, 4]).reshape([B * T, c.numHeads * hd]) as Tensor2D;
}

/**
 * Decoding step (one query token per row). On wasm, one kernel against the cache (step-attention.wat);
 * elsewhere two broadcast multiply-sums replace the 2·B·kvH small matmuls (their op count does not grow
 * with the batch, which keeps contrastive decoding's two rows close to the cost of one).
 */
function attentionOneQuery(q: Tensor4D, k: Tensor4D, vT: Tensor4D, bias: () => Tensor, c: ModelConfig, B: number, Tk: number): Tensor2D {
  const g = c.numHeads / c.numKvHeads;
  const kvH = c.numKvHeads;
  const hd = c.headDim;
  if (hd % 4 === 0 && stepAttentionAvailable()) {
    const out = stepAttention(q.reshape([B, c.numHeads, hd]) as Tensor3D, k, vT, bias().reshape([B, Tk]) as Tensor2D, 1 / Math.sqrt(hd));
    return out.reshape([B, c.numHeads * hd]) as Tensor2D;
  }
  const qg = tf.mul(q, 1 / Math.sqrt(hd)).reshape([B, kvH, g, 1, hd]);
  const scores = tf.sum(tf.mul(qg, k.reshape([B, kvH, 1, Tk, hd])), -1); // [B, kvH, g, Tk]
  const probs = tf.softmax(tf.add(scores, bias().reshape([B, 1, 1, Tk])));
  const out = tf.sum(tf.mul(probs.reshape([B, kvH, g, 1, Tk]), vT.reshape([B, kvH, 1, hd, Tk])), -1); // [B, kvH, g, hd]
  return out.reshape([B, c.numHeads * hd]) as Tensor2D;
}

interface RowAdapters {
  /** Distinct adapters in use. */
  adapters: LoraAdapter[];
  /** For each distinct adapter, which batch rows use it; null when every row does. */
  rows: Array<boolean[] | null>;
}

function resolveAdapters(choice: AdapterChoice, B: number): RowAdapters {
  if (!choice) return { adapters: [], rows: [] };
  if (!Array.isArray(choice)) return { adapters: [choice as LoraAdapter], rows: [null] };
  const list = choice as ReadonlyArray<LoraAdapter | null>;
  if (list.length !== B) throw new Error(`forward: ${list.length} per-row adapters for a batch of ${B}`);
  const adapters = [...new Set(list.filter((a): a is LoraAdapter => a != null))];
  return {
    adapters,
    rows: adapters.map((a) => {
      const used = list.map((x) => x === a);
      return used.every(Boolean) ? null : used;
    }),
  };
}

/**
 * Each active adapter's LoRA scale per row (0 on rows that do not use it): as the ops apply it, a [N, 1]
 * mask for an adapter used by some rows only and the plain scale otherwise; for the scaled-add kernel, a
 * [N] vector. Tensors are made on first use, inside forward's tidy.
 */
class RowScales {
  private readonly masks: Array<Tensor2D | undefined> = [];
  private readonly vectors: Array<Tensor1D | undefined> = [];

  private readonly n: number;

  constructor(private readonly rows: RowAdapters, B: number, private readonly T: number) {
    this.n = B * T;
  }

  /** Row b·T + t gets the scale when batch row b uses adapter i. */
  private rowValues(i: number): Float32Array {
    const m = new Float32Array(this.n);
    const used = this.rows.rows[i];
    const scale = loraScale(this.rows.adapters[i].config);
    for (let r = 0; r < this.n; r++) if (!used || used[Math.floor(r / this.T)]) m[r] = scale;
    return m;
  }

  /** What the ops multiply the update by: a [N, 1] mask, or the scale when every row uses the adapter. */
  factor(i: number): Tensor2D | number {
    if (!this.rows.rows[i]) return loraScale(this.rows.adapters[i].config);
    return (this.masks[i] ??= tf.tensor2d(this.rowValues(i), [this.n, 1]));
  }

  /** The per-row scales [N]. */
  vector(i: number): Tensor1D {
    return (this.vectors[i] ??= tf.tensor1d(this.rowValues(i)));
  }
}

/** x [N, in] → [N, out]: the frozen projection plus each active LoRA update, masked to its rows. */
function linear(x: Tensor2D, w: Linear, layer: number, proj: ProjectionName, rows: RowAdapters, scales: RowScales, rng?: Rng): Tensor2D {
  let y = isTrainable(w.kernel) ? matmul2d(x, w.kernel) : matmulFrozen(x, w);
  if (w.bias) y = tf.add(y, w.bias);
  rows.adapters.forEach((adapter, i) => {
    const pair = adapter.layers[layer]?.[proj];
    if (!pair) return;
    const p = adapter.config.dropout;
    const xin = rng && p > 0 ? seededDropout(x, p, rng.seed()) : x;
    const delta = adapterMatmul(adapterMatmul(xin, pair.a), pair.b);
    // One multiply applies both the LoRA scale and, for per-row adapters, the row mask; outside a tape on
    // wasm, one kernel does the multiply and the add.
    if (!taping() && scaledAddAvailable(y.shape[1])) y = scaledAdd(y, delta, scales.vector(i));
    else y = tf.add(y, tf.mul(delta, scales.factor(i)));
  });
  return y;
}
