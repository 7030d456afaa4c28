/** The tfjs backend name this package registers. */
export const NATIVE_BACKEND = 'native';

/**
 * `CopeDropout` {x} {rate, seed}: inverted dropout whose mask depends only on the seed and the element index, so
 * the same call on the output gradient is the backward pass. @cope/model uses it where the active backend has it.
 */
export const DROPOUT_KERNEL = 'CopeDropout';

/**
 * `CopeLogSoftmaxPick` {logits [N, V], targets int32 [N]} → [N]: log softmax(logits)[targets], in one pass over
 * each row; `CopeLogSoftmaxPickGrad` {logits, targets, dy [N]} → [N, V]: its gradient, recomputing the softmax
 * from the logits instead of keeping it (an [N, V] tensor fewer).
 */
export const LOG_SOFTMAX_PICK_KERNEL = 'CopeLogSoftmaxPick';
export const LOG_SOFTMAX_PICK_GRAD_KERNEL = 'CopeLogSoftmaxPickGrad';

/**
 * Fused inference kernels @cope/model runs outside a gradient tape where the active backend registers them
 * (its wasm heap kernels carry the same names): `CopeRmsNorm` {x [N, H], w [H]} {eps}, `CopeSwiGlu` {gate, up},
 * `CopeScaledAdd` {y [R, C], delta [R, C], scale [R]} → y + delta · scale[row].
 */
export const RMS_NORM_KERNEL = 'CopeRmsNorm';
export const SWIGLU_KERNEL = 'CopeSwiGlu';
export const SCALED_ADD_KERNEL = 'CopeScaledAdd';
/**
 * Gradients of the first two, from their inputs and the output gradient dy: `CopeRmsNormGrad` {x, w, dy} {eps} →
 * [dx, dw]; `CopeSwiGluGrad` {gate, up, dy} → [dgate, dup]. A taped RMSNorm or SwiGLU then keeps its inputs only.
 */
export const RMS_NORM_GRAD_KERNEL = 'CopeRmsNormGrad';
export const SWIGLU_GRAD_KERNEL = 'CopeSwiGluGrad';

/**
 * `CopeRowsMatMul` {x [N, in], w [in, out]} → [N, out]: a product whose every row is computed the same way
 * whatever N (one fused multiply-add chain per output, in order), so a decoding batch, a prompt cache and a row
 * alone agree bitwise. @cope/model runs its frozen-weight products outside a gradient tape on it. With the attribute
 * `bf16: 1`, w is int32 [in, out/2] holding bf16 values in pairs (low half first): weights kept in bf16.
 */
export const ROWS_MATMUL_KERNEL = 'CopeRowsMatMul';

/**
 * `CopeRopeRows` {x [N, heads·hd], cos [N, hd/2], sin [N, hd/2]} → x rotated (rotate_half; with sin negated, the
 * gradient); `CopeStepAttention` {q [B, heads, hd], k [B, kvH, T, hd], vT [B, kvH, hd, T], bias [B, T]} {scale} →
 * [B, heads, hd], a decoding step's attention. The same names as @cope/model's wasm heap kernels.
 */
export const ROPE_ROWS_KERNEL = 'CopeRopeRows';
export const STEP_ATTENTION_KERNEL = 'CopeStepAttention';

/**
 * `CopePackPanels` {w [k, n]} → w in 16-column panels (the last zero-padded), flat: float32 [ceil(n/16), k, 16], or with
 * the attribute `bf16: 1` (w int32 [k, n/2] holding bf16 pairs) bf16 panels that pair rows, [ceil(n/16), ceil(k/2), 16,
 * 2] as int32 pairs (one load widens two rows). Decoding steps of one or two rows read a layer's packed copies (inputs
 * `w_<proj>` plus `wp_<proj>`): split over threads, each thread's columns are then one stretch of memory; the values
 * are bitwise those from the weight itself.
 */
export const PACK_PANELS_KERNEL = 'CopePackPanels';

/** The projections of a decoder layer, in the order {@link DECODER_STEP_KERNEL}'s inputs name them. */
export const DECODER_PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

/**
 * `CopeDecoderStep`: one decoding step of a whole Llama-family decoder layer, one new token a row, in one kernel.
 * Inputs: `h` [B, H]; `inNorm`, `postNorm` [H]; `w_<proj>` [in, out] for each of {@link DECODER_PROJECTIONS}
 * (float32, or with the attribute `bf16: 1` int32 [in, out/2] holding bf16 pairs); optional `bias_<q|k|v>_proj`
 * [out]; optional LoRA `loraA_<proj>` [in, r] and `loraB_<proj>` [r, out] with `loraScale` [B] (one adapter, its scale
 * per row, 0 for rows without it); `cos`, `sin` [B, hd/2]; the cache `kPast` [B, kvH, Tp, hd] and `vTPast`
 * [B, kvH, hd, Tp]; `bias` [B, Tp + 1]. Attributes: `eps`, `scale` (of the attention scores), `heads`, `bf16`.
 * Outputs: h [B, H] after the layer, and the cache with this position appended. Bitwise the op-by-op step.
 */
export const DECODER_STEP_KERNEL = 'CopeDecoderStep';

/**
 * `CopeModelStep`: a whole decoding step, one new token a row, in one kernel: the embedding lookup, every layer's
 * {@link DECODER_STEP_KERNEL} step, the final RMSNorm and the head's row-invariant product, on one team of threads.
 * Inputs: `h` [B, H] (the embedded tokens), or `ids` int32 [B] with `embed` [V, H] (absent: the float32 head's
 * columns); each layer `l`'s inputs of {@link DECODER_STEP_KERNEL} but `h`, named
 * `<l>.inNorm`, `<l>.w_q_proj`, `<l>.kPast`, …; the shared `cos`, `sin`, `bias` and `loraScale`; `norm` [H]; `head`
 * [H, V] (float32, or int32 bf16 pairs with `headBf16: 1`). Attributes: those of {@link DECODER_STEP_KERNEL} and
 * `layers`, `headBf16`; optional `headPacked`, the head's {@link PACK_PANELS_KERNEL} copy. Outputs: logits [B, V], then
 * each layer's cache (k, vT) with this position appended. Bitwise the layer steps, the norm and the head product run
 * one by one.
 */
export const MODEL_STEP_KERNEL = 'CopeModelStep';
