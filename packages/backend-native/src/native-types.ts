// Types of the addon's decoding sessions and vocabulary passes, importable where no addon loads (a browser entry).

/**
 * A batch's decoding on the addon: the KV cache kept natively with room to grow (a step appends in place instead of
 * copying the past), the model's arrays read once, one addon call a step. Bitwise `CopeModelStep` over the
 * same cache.
 */
export interface NativeDecodeSession {
  /** One step: each row's new token `ids` [B] at rotary angles `cos`, `sin` [B, hd/2]; writes `logits` [B, V]. */
  step(ids: Int32Array, cos: Float32Array, sin: Float32Array, logits: Float32Array): void;
  /** Keeps `rows` (increasing), in order, with their LoRA scales (null without an adapter). */
  keep(rows: Int32Array, loraScale: Float32Array | null): void;
  /** Frees the cache and lets the model's arrays go; the session is unusable after. */
  close(): void;
}

/** Attributes of `CopeModelStep`. */
export interface ModelStepAttrs {
  eps: number;
  scale: number;
  heads: number;
  bf16: number;
  layers: number;
  headBf16: number;
}

/**
 * The decoding scores' passes over the vocabulary on the addon (native/vector_math.c, AVX-512): bitwise the results of
 * @cope/decoding's WebAssembly module (src/kernels/vector-math.wat), operation for operation, several times faster.
 * Arrays are Float32Arrays (views of any buffer, the module's memory too); n is a multiple of 8 within them.
 */
export interface NativeVectorMath {
  /** The largest of a[0..n) (NaN if any is NaN). */
  max(a: Float32Array, n: number): number;
  /** dst[i] = exp(src[i] − shift); returns their sum in float64 (chunks of 1024 elements, as the module adds them). */
  expShiftSum(src: Float32Array, dst: Float32Array, n: number, shift: number): number;
  /** a[i] = log(a[i]·scale + offset). */
  logAffine(a: Float32Array, n: number, scale: number, offset: number): void;
  /** dst[i] = src[i]·scale + offset. */
  affine(src: Float32Array, dst: Float32Array, n: number, scale: number, offset: number): void;
  /** The sum of the elements >= threshold, in index order, in float64. */
  sumAtLeast(src: Float32Array, n: number, threshold: number): number;
  /** Where src[i] >= threshold: dst[i] = float32(log(src[i]·scale + offset) − lam·sub[i]). */
  logContrastAtLeast(src: Float32Array, sub: Float32Array, dst: Float32Array, n: number, threshold: number, scale: number, offset: number, lam: number): void;
  /**
   * Greedy decoding's step in one call (n > 0): out[0] = the first index of x's largest element (0 when it is NaN),
   * out[1] = Σ exp(x − max) as {@link expShiftSum} sums it (NaN when the max is not finite). On `threads` (the same
   * bits on any number): each takes whole chunks of the sum, about the logits the head's product gave it.
   */
  greedyPick(x: Float32Array, n: number, out: Float64Array, threads: number): void;
  /**
   * CoPe's contrastive step in one call (n > 0), bitwise @cope/decoding's passes: `scores` from the expert's and
   * amateur's logits (`pE`, `pA`: scratch of n; `scores` may be `pA`), out[0] their first argmax, out[1] Σ exp(scores − scores[out[0]])
   * (NaN when that score is not finite). settings: [λ, plausibility, ε, log ε, masked −∞ ? 1 : 0]. On `threads`, as
   * {@link greedyPick}.
   */
  contrastivePick(expert: Float32Array, amateur: Float32Array, n: number, pE: Float32Array, pA: Float32Array, scores: Float32Array, settings: Float64Array, out: Float64Array, threads: number): void;
}
