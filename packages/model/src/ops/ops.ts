import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable } from '../tf.js';
import type { ModelConfig } from '../config.js';
import type { FrozenKernel } from '../frozen-copies.js';
import type { LayerCache } from '../kv-cache.js';
import type { RowAdapters, RowScales } from '../lora-linear.js';
import type { Rotary } from '../rope.js';
import type { LayerWeights, ModelWeights } from '../weights.js';
import type { LoraAdapter } from '../lora-types.js';

/** What a decoding step of one decoder layer reads: one new token a row (B rows), over the layer's cache. */
export interface DecoderStepInput {
  layer: LayerWeights;
  /** The layer's index (its adapters' pairs). */
  l: number;
  /** Hidden states [B, H] entering the layer. */
  h: Tensor2D;
  c: ModelConfig;
  rows: RowAdapters;
  scales: RowScales;
  rotary: Rotary;
  past: LayerCache;
  bias: QueryBias;
  B: number;
  /** Key positions: cached plus this one. */
  Tk: number;
}

/** What a whole decoding step reads: {@link DecoderStepInput} for every layer, the tokens, the final norm and head. */
export interface ModelStepInput extends Omit<DecoderStepInput, 'layer' | 'l' | 'past' | 'h'> {
  weights: ModelWeights;
  /** The new token of each row [B]. */
  ids: number[];
  /** Their embeddings [B, H], computed where the backend does not look them up itself. */
  embedded(): Tensor2D;
  /** Every layer's cache. */
  past: LayerCache[];
}

/** What a decoding session starts from: a model, its rows' adapter, the cache of B rows over Tp positions. */
export interface DecodeSessionInput {
  weights: ModelWeights;
  c: ModelConfig;
  /** The one adapter some rows use, or null. */
  adapter: LoraAdapter | null;
  /** The adapter's scale per row [B] (0 where a row runs the bare model); null without an adapter. */
  loraScale: Float32Array | null;
  past: LayerCache[];
  /** The cached positions' additive mask [B, Tp] (0: a token; the masked value: padding). */
  keyBias: Float32Array;
  /** Positions to make room for at first (the cache grows past them when needed). */
  capacity: number;
}

/**
 * Decoding steps over a cache a backend keeps itself (appended in place), bitwise {@link Ops.modelStep} over the same
 * cache. The model and adapter must outlive it.
 */
export interface DecodeSession {
  /** One new token a row: `ids` [B] at rotary angles `cos`, `sin` [B, hd/2]; writes `logits` [B, V]. */
  step(ids: Int32Array, cos: Float32Array, sin: Float32Array, logits: Float32Array): void;
  /** Keeps `rows` (increasing), in order, with their adapter scales (null without an adapter). */
  keep(rows: Int32Array, loraScale: Float32Array | null): void;
  close(): void;
}

/**
 * The additive attention mask of one forward's queries: 0 where a query may attend a key, −1e9 elsewhere
 * (later positions, padding). Backends read it as a host array or as a tensor, whichever they need.
 */
export interface QueryBias {
  /** Query positions per row. */
  readonly T: number;
  /** [B, T, Tk] row-major. */
  host(): Float32Array;
  /** [B, 1, 1, T, Tk]: broadcasts over kv heads and the query heads sharing one. */
  tensor(): Tensor;
}

/**
 * The operations a forward pass runs that a backend may do its own way: chosen once per backend
 * ({@link opsFor}), so `forward` reads the same on every backend. Every method returns the same values on
 * every implementation up to float32 rounding, and the wasm and native ones are bitwise their backend's
 * plain ops where the README says so. Shapes: N rows (batch × positions), H hidden, B batch, T query positions,
 * Tk key positions, hd head size.
 */
export interface Ops {
  /** Called when a forward pass begins (the wasm copy budgets measure what it holds from here). */
  beginForward(): void;
  /** RMSNorm over the last axis: x [N, H], w [H] → [N, H]. */
  rmsNorm(x: Tensor2D, w: Tensor1D, eps: number): Tensor2D;
  /** SwiGLU's gating `gate · sigmoid(gate) · up`, [N, F]. */
  swiGlu(gate: Tensor2D, up: Tensor2D): Tensor2D;
  /** A residual adder for one forward pass: `h + x` [N, H] (it may keep small constants for the pass). */
  residualAdder(): (h: Tensor2D, x: Tensor2D) => Tensor2D;
  /** `y + delta · scale[row]` [N, C]: `factor` is the scale (every row) or a [N, 1] column; `vector` the same as [N]. */
  addScaled(y: Tensor2D, delta: Tensor2D, factor: () => number | Tensor2D, vector: () => Tensor1D): Tensor2D;
  /** Rows of `table` [V, H] at int32 `ids` [N] → [N, H]. */
  gatherRows(table: Tensor2D, ids: Tensor1D): Tensor2D;
  /** Whether a trainable embedding table needs a one-hot-product gradient (the backend has no scatter-add). */
  readonly oneHotEmbeddingGrad: boolean;
  /** The KV cache tensor `past` with `next` appended on `axis` (2: keys [B, kvH, T, hd]; 3: values [B, kvH, hd, T]). */
  appendPositions(past: Tensor4D, next: Tensor4D, axis: 2 | 3): Tensor4D;
  /** Grouped-query attention: q [B, T, heads, hd], kT [B, kvH, hd, Tk], v [B, kvH, Tk, hd] → [B·T, heads·hd]. */
  attention(q: Tensor4D, kT: Tensor4D, v: Tensor4D, bias: QueryBias, c: ModelConfig, B: number, Tk: number): Tensor2D;
  /** One query a row against the cache: q [B, 1, heads, hd], k [B, kvH, Tk, hd], vT [B, kvH, hd, Tk] → [B, heads·hd]. */
  attentionStep(q: Tensor4D, k: Tensor4D, vT: Tensor4D, bias: QueryBias, c: ModelConfig, B: number, Tk: number): Tensor2D;
  /** Whether every one-token forward takes {@link attentionStep}, even without a cache. */
  readonly stepAttentionAlways: boolean;
  /** Whether rotary embedding runs as one kernel for heads of size `headDim` (else split, products, concat). */
  ropeKernel(headDim: number): boolean;
  /** x [N, in] · a frozen kernel [in, out] → [N, out]; the gradient flows to x only. */
  frozenMatmul(x: Tensor2D, w: FrozenKernel): Tensor2D;
  /** a [n, k] · b [k, m] with gradients to both. */
  matmul(a: Tensor2D, b: Tensor2D): Tensor2D;
  /** x [N, in] · a LoRA weight [in, out] with gradients to both. */
  adapterMatmul(x: Tensor2D, w: Variable): Tensor2D;
  /** a [g, n, k] · b [g, k, m] → [g, n, m]. */
  batchMatmul(a: Tensor3D, b: Tensor3D): Tensor3D;
  /** tᵀ of a matrix. */
  transpose(t: Tensor2D): Tensor2D;
  /** Inverted dropout of x with `rate`, its mask from `seed`; the gradient applies the same mask. */
  dropout(x: Tensor2D, rate: number, seed: number): Tensor2D;
  /**
   * Optional: a decoding step of a whole decoder layer in one kernel, bitwise the layer op by op; returns the hidden
   * states [B, H] after the layer and the cache with this position, or null where it does not apply (the layer then
   * runs op by op).
   */
  decoderStep?(step: DecoderStepInput): { h: Tensor2D; k: Tensor4D; vT: Tensor4D } | null;
  /**
   * Optional: a whole decoding step (embedding, every layer, the final norm, the head) in one kernel,
   * bitwise the layer steps and the head run one by one; returns the logits [B, V] and each layer's cache with this
   * position, or null where it does not apply (the step then runs layer by layer).
   */
  modelStep?(step: ModelStepInput): { logits: Tensor2D; cache: LayerCache[] } | null;
  /**
   * Optional: a decoding session over `input`'s cache (see {@link DecodeSession}), or null where it does not apply
   * (decoding then runs a forward pass a step).
   */
  openDecodeSession?(input: DecodeSessionInput): DecodeSession | null;
}
