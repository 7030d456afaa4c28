/** The addon's functions (native/addon.c). Arrays are used in place; shapes are row-major. */
export interface NativeAddon {
  /** c[i] = op(a[i % batchA]) · op(b[i % batchB]) + beta · c[i]; op(a) [m, k], op(b) [k, n]; large products split over `threads`. */
  batchSgemm(a: Float32Array, b: Float32Array, c: Float32Array, batch: number, batchA: number, batchB: number,
    m: number, n: number, k: number, transA: boolean, transB: boolean, beta: number, threads: number): void;
  /**
   * out [m, n] = x [m, k] · w [k, n], w float32 or bf16 bits; each output one fused multiply-add chain over k in
   * order, so a row's result does not depend on m or the thread count.
   */
  rowsGemm(x: Float32Array, w: Float32Array | Uint16Array, out: Float32Array, m: number, k: number, n: number, threads: number): void;
  /**
   * Gradients of {@link fused}'s kernels 0 and 1 from the output gradient dy: kind 0 RMSNorm (a x [rows, cols], b w
   * [cols] → outA dx, outB dw [cols]); kind 1 SwiGLU (a gate, b up → outA dgate, outB dup).
   */
  fusedGrad(kind: 0 | 1, a: Float32Array, b: Float32Array, dy: Float32Array, outA: Float32Array, outB: Float32Array, rows: number, cols: number, eps: number): void;
  /** out [n, heads·2·half] = x rotated by cos, sin [n, half] (rotate_half convention). */
  rope(x: Float32Array, cos: Float32Array, sin: Float32Array, out: Float32Array, n: number, heads: number, half: number): void;
  /** out [B, kvH·g, hd] = softmax(q·scale · kᵀ + bias) · v for q [B, kvH·g, hd], k [B, kvH, T, hd], vT [B, kvH, hd, T], bias [B, T]. */
  stepAttention(q: Float32Array, k: Float32Array, vT: Float32Array, bias: Float32Array, out: Float32Array, B: number, kvH: number, g: number, T: number, hd: number, scale: number): void;
  /**
   * One decoding step of a decoder layer (native/decoder_step.h). `arrays`: h, inNorm, postNorm, the 7 weights, q/k/v
   * biases, 7 LoRA A, 7 LoRA B, LoRA row scales, cos, sin, kPast, vTPast, bias, hOut, kOut, vTOut, and optionally the
   * 7 weights' panel-packed copies ({@link packPanels}; read by steps of one or two rows) (null where absent);
   * `dims`: B, H, heads, kvH, hd, F, Tp, eps, scale, bf16, threads, the 7 LoRA ranks (0 where absent).
   */
  decoderStep(arrays: Array<Float32Array | Uint16Array | null>, dims: Float64Array): void;
  /**
   * A whole decoding step (native/decoder_step.h's model_step): `layers` each as decoderStep's arrays (layer l's hOut
   * is layer l+1's h), the same dims for every layer, the final norm [H], the head [H, V] (bf16 bits with `headBf16`),
   * logits [B, V] out; with `ids` [B], layer 0's h is written with their embeddings (rows of `embed` [V, H], or
   * columns of a float32 head); `headPacked`: the head's packed copy ({@link packPanels}), read by steps of one or two rows.
   */
  modelStep(layers: Array<Array<Float32Array | Uint16Array | null>>, dims: Float64Array, norm: Float32Array, head: Float32Array | Uint16Array, logits: Float32Array, eps: number, headBf16: number,
    ids?: Int32Array | null, embed?: Float32Array | null, headPacked?: Float32Array | Uint16Array | null): void;
  /**
   * A decoding session (native/session_addon.h): modelStep's layers (h, cos, sin, bias and outputs null; kPast and
   * vTPast the cache to start from), dims, norm and head, `embed` (or null: the float32 head's columns), the cached
   * positions' mask bias [B, Tp], room for `capacity` positions. The arrays are kept alive until sessionClose.
   */
  sessionOpen(layers: Array<Array<Float32Array | Uint16Array | null>>, dims: Float64Array, norm: Float32Array, head: Float32Array | Uint16Array, eps: number, headBf16: number,
    embed: Float32Array | null, bias: Float32Array, capacity: number, headPacked?: Float32Array | Uint16Array | null): NativeSessionHandle;
  /** One step of a session: ids [B], cos and sin [B, hd/2]; logits [B, V] out. */
  sessionStep(session: NativeSessionHandle, ids: Int32Array, cos: Float32Array, sin: Float32Array, logits: Float32Array): void;
  /** Keeps a session's rows (increasing) with their LoRA scales (or null). */
  sessionKeep(session: NativeSessionHandle, rows: Int32Array, loraScale: Float32Array | null): void;
  /** Frees a session's cache and releases its arrays. */
  sessionClose(session: NativeSessionHandle): void;
  /**
   * wp = w [k, n] in 16-column panels, the last zero-padded: float32 [ceil(n/16), k, 16]; bf16 bits pair rows,
   * [ceil(n/16), ceil(k/2), 16, 2] (native/packed_gemm.h).
   */
  packPanels(w: Float32Array | Uint16Array, wp: Float32Array | Uint16Array, k: number, n: number): void;
  /** out [m, n] = x [m, k] · w from its packed copy `wp` ({@link packPanels}): bitwise {@link rowsGemm}'s product. */
  packedGemm(x: Float32Array, wp: Float32Array | Uint16Array, out: Float32Array, m: number, k: number, n: number): void;
  /** Whether the vocabulary passes below are built (AVX-512). */
  vmAvailable(): boolean;
  /** The vocabulary passes of `NativeVectorMath` (src/vector-math.ts), n a multiple of 8. */
  vmMax(a: Float32Array, n: number): number;
  vmExpShiftSum(src: Float32Array, dst: Float32Array, n: number, shift: number): number;
  vmLogAffine(a: Float32Array, n: number, scale: number, offset: number): void;
  vmAffine(src: Float32Array, dst: Float32Array, n: number, scale: number, offset: number): void;
  vmSumAtLeast(src: Float32Array, n: number, threshold: number): number;
  vmLogContrastAtLeast(src: Float32Array, sub: Float32Array, dst: Float32Array, n: number, threshold: number, scale: number, offset: number, lam: number): void;
  vmGreedyPick(x: Float32Array, n: number, out: Float64Array, threads: number): void;
  vmContrastivePick(expert: Float32Array, amateur: Float32Array, n: number, pE: Float32Array, pA: Float32Array, scores: Float32Array, settings: Float64Array, out: Float64Array, threads: number): void;
  /** OpenBLAS's build description. */
  config(): string;
  bf16ToF32(src: Uint16Array, dst: Float32Array): void;
  /** dst [cols, rows] = src [rows, cols]ᵀ for 16-bit values (bf16 weights). */
  transposeU16(src: Uint16Array, dst: Uint16Array, rows: number, cols: number): void;
  /** out = a op b over `shape`, reading a and b at their strides (0 where broadcast); ops: {@link BINARY_OPS}. */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: Float64Array, strideA: Float64Array, strideB: Float64Array): void;
  /** out[i] = op(x[i]); ops: {@link UNARY_OPS}. */
  unary(op: number, x: Float32Array, out: Float32Array): void;
  /** kind 0: softmax of each row of x [rows, cols] into out; kind 1: reduction `op` ({@link REDUCE_OPS}) of each row into out [rows]. */
  rows(kind: 0 | 1, op: number, x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** out (contiguous, `outShape`) from x read at `inStride` per out dim. */
  transpose(x: Float32Array, out: Float32Array, outShape: Float64Array, inStride: Float64Array): void;
  /** out = x · mask / (1 − rate), the mask a pure function of (seed, element index). */
  dropout(x: Float32Array, out: Float32Array, rate: number, seed: number): void;
  /** out [rows] = log softmax(x [rows, cols])[targets]; with dy [rows], out [rows, cols] = its gradient (onehot − softmax) · dy. */
  logSoftmaxPick(x: Float32Array, targets: Int32Array, out: Float32Array, rows: number, cols: number, dy?: Float32Array): void;
  /**
   * kind 0: RMSNorm of a [rows, cols] times b [cols] (eps); 1: SwiGLU gating a · sigmoid(a) · b; 2: a + b · c[row].
   * `c` is ignored but for kind 2.
   */
  fused(kind: 0 | 1 | 2, a: Float32Array, b: Float32Array, c: Float32Array | null, out: Float32Array, rows: number, cols: number, eps: number): void;
}

/** An open decoding session of the addon (an N-API external). */
export type NativeSessionHandle = { readonly __nativeSession: unique symbol };
