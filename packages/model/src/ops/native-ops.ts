import { DECODER_PROJECTIONS, DECODER_STEP_KERNEL, DROPOUT_KERNEL, RMS_NORM_GRAD_KERNEL, RMS_NORM_KERNEL, ROWS_MATMUL_KERNEL, SWIGLU_GRAD_KERNEL, SCALED_ADD_KERNEL, STEP_ATTENTION_KERNEL, SWIGLU_KERNEL } from '@cope/backend-native';
import { tf } from '../tf.js';
import type { Tensor, Tensor2D, Tensor3D, Tensor4D } from '../tf.js';
import { taping } from '../taping.js';
import { isTrainable } from '../lora-linear.js';
import type { DecoderStepInput, Ops } from './ops.js';
import { tfOps } from './tf-ops.js';

const run = <T extends Tensor>(name: string, inputs: Record<string, Tensor>, attrs: Record<string, number> = {}): T =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as T;

const runMany = (name: string, inputs: Record<string, Tensor>, attrs: Record<string, number> = {}): Tensor[] =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as unknown as Tensor[];

/**
 * A two-input op whose gradient kernel needs only the inputs and the output gradient: the tape keeps the two
 * inputs instead of every intermediate of the op-by-op form.
 */
function withInputsGrad(value: (a: Tensor, b: Tensor) => Tensor2D, grad: (a: Tensor, b: Tensor, dy: Tensor) => Tensor[]): (a: Tensor, b: Tensor) => Tensor2D {
  const f = tf.customGrad(((a: Tensor, b: Tensor, save: (ts: Tensor[]) => void) => {
    save([a, b]);
    return { value: value(a, b), gradFunc: (dy: Tensor, saved: Tensor[]) => grad(saved[0], saved[1], dy) };
  }) as any);
  return (a, b) => f(a, b) as Tensor2D;
}

/**
 * A decoding step's decoder layer as one kernel: frozen weights (all float32 or all bf16), q/k/v biases at most,
 * one adapter at most, the rotary kernel's head sizes, outside a tape. Null otherwise.
 */
function decoderStep(s: DecoderStepInput): { h: Tensor2D; k: Tensor4D; vT: Tensor4D } | null {
  const { layer, c, rows } = s;
  if (taping() || rows.adapters.length > 1 || !s.rotary.usesKernel) return null;
  const proj = DECODER_PROJECTIONS.map((p) => layer.proj[p]);
  const bf16 = !!proj[0].bf16;
  if (proj.some((w, i) => isTrainable(w.kernel) || !!w.bf16 !== bf16 || (w.bias && i > 2))) return null;
  const inputs: Record<string, Tensor> = { h: s.h, inNorm: layer.inputNorm, postNorm: layer.postAttentionNorm, kPast: s.past.k, vTPast: s.past.vT };
  DECODER_PROJECTIONS.forEach((p, i) => {
    inputs[`w_${p}`] = proj[i].kernel;
    if (proj[i].bias) inputs[`bias_${p}`] = proj[i].bias!;
  });
  const adapter = rows.adapters[0];
  if (adapter) {
    for (const p of DECODER_PROJECTIONS) {
      const pair = adapter.layers[s.l]?.[p];
      if (!pair) continue;
      inputs[`loraA_${p}`] = pair.a;
      inputs[`loraB_${p}`] = pair.b;
    }
    inputs.loraScale = s.scales.vector(0);
  }
  const [cos, sin] = s.rotary.tablesOf();
  inputs.cos = cos;
  inputs.sin = sin;
  inputs.bias = s.bias.tensor().reshape([s.B, s.Tk]);
  const [h, k, vT] = runMany(DECODER_STEP_KERNEL, inputs, { eps: c.rmsNormEps, scale: 1 / Math.sqrt(c.headDim), heads: c.numHeads, bf16: bf16 ? 1 : 0 });
  return { h: h as Tensor2D, k: k as Tensor4D, vT: vT as Tensor4D };
}

/**
 * @cope/backend-native: tfjs ops on its kernels, and its fused kernels where they fit. RMSNorm and SwiGLU in one
 * kernel each, taped too (their gradient kernels read the inputs only). Outside a gradient tape: LoRA's scaled
 * add in one kernel, and frozen-weight products on its row-invariant
 * product (a row's logits never depend on the rows beside it, so batched decoding and the prompt cache match a
 * row alone bitwise); a decoding step's attention in one kernel. Rotary embedding on its kernel, in and out of a
 * tape (the gradient is the rotation by the opposite angle), and LoRA dropout on its seeded kernel (the mask is a
 * function of seed and element index, so the gradient is the same kernel). A decoding step's decoder layer in one
 * kernel where it applies (bitwise the op-by-op layer).
 */
export const nativeOps: Ops = {
  ...tfOps,
  rmsNorm(x, w, eps) {
    const value = (xi: Tensor, wi: Tensor) => run<Tensor2D>(RMS_NORM_KERNEL, { x: xi, w: wi }, { eps });
    if (!taping()) return value(x, w);
    return withInputsGrad(value, (xi, wi, dy) => runMany(RMS_NORM_GRAD_KERNEL, { x: xi, w: wi, dy }, { eps }))(x, w);
  },
  swiGlu(gate, up) {
    const value = (g: Tensor, u: Tensor) => run<Tensor2D>(SWIGLU_KERNEL, { gate: g, up: u });
    if (!taping()) return value(gate, up);
    return withInputsGrad(value, (g, u, dy) => runMany(SWIGLU_GRAD_KERNEL, { gate: g, up: u, dy }))(gate, up);
  },
  addScaled: (y, delta, factor, vector) => (taping() ? tfOps.addScaled(y, delta, factor, vector) : run<Tensor2D>(SCALED_ADD_KERNEL, { y, delta, scale: vector() })),
  attentionStep: (q, k, vT, bias, c, B, Tk) =>
    run<Tensor3D>(STEP_ATTENTION_KERNEL, { q: q.reshape([B, c.numHeads, c.headDim]), k, vT, bias: bias.tensor().reshape([B, Tk]) }, { scale: 1 / Math.sqrt(c.headDim) }).reshape([B, c.numHeads * c.headDim]) as Tensor2D,
  stepAttentionAlways: true,
  ropeKernel: (headDim) => headDim % 8 === 0,
  frozenMatmul(x, w) {
    if (w.bf16) {
      if (taping()) throw new Error('a weight kept in bf16 has no gradient path: train with float32 weights (loadModel weights: float32)');
      return run<Tensor2D>(ROWS_MATMUL_KERNEL, { x, w: w.kernel }, { bf16: 1 });
    }
    return taping() ? tf.matMul(x, w.kernel) : run<Tensor2D>(ROWS_MATMUL_KERNEL, { x, w: w.kernel });
  },
  decoderStep,
  dropout(x, rate, seed) {
    const apply = (t: Tensor) => run<Tensor>(DROPOUT_KERNEL, { x: t }, { rate, seed });
    const f = tf.customGrad(((xIn: Tensor, save: (ts: Tensor[]) => void) => {
      save([]);
      return { value: apply(xIn), gradFunc: (dy: Tensor) => apply(dy) };
    }) as any);
    return f(x) as Tensor2D;
  },
};
