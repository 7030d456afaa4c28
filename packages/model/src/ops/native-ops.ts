import { openNativeDecodeSession, PACK_PANELS_KERNEL, DECODER_PROJECTIONS, DECODER_STEP_KERNEL, MODEL_STEP_KERNEL, DROPOUT_KERNEL, RMS_NORM_GRAD_KERNEL, RMS_NORM_KERNEL, ROWS_MATMUL_KERNEL, SWIGLU_GRAD_KERNEL, SCALED_ADD_KERNEL, STEP_ATTENTION_KERNEL, SWIGLU_KERNEL } from '@cope/backend-native';
import { tf } from '../tf.js';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D } from '../tf.js';
import { taping } from '../taping.js';
import { isTrainable } from '../lora-linear.js';
import type { DecodeSession, DecodeSessionInput, DecoderStepInput, ModelStepInput, Ops } from './ops.js';
import type { LayerCache } from '../kv-cache.js';
import type { ModelConfig } from '../config.js';
import type { LoraAdapter } from '../lora-types.js';
import type { LayerWeights, ModelWeights } from '../weights.js';
import { keepPacked, keptTranspose, packedCopiesFit, type FrozenKernel } from '../frozen-copies.js';
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
 * Whether the head gets a packed copy too: a bf16 head (from its copy, two rows stream faster and one as fast; a float32
 * head's long rows stream as fast from the weight itself).
 */
const packedHead = (weights: ModelWeights) => !!weights.lmHead.bf16;

/** Packed copy of a frozen weight, kept under the packed-copy budget. */
const packedCopy = (w: FrozenKernel) => keepPacked(w, false, () => run<Tensor1D>(PACK_PANELS_KERNEL, { w: w.kernel }, { bf16: w.bf16 ? 1 : 0 }));

/** Models whose layer projections (and bf16 head) all have packed copies, or all fit the packed-copy budget together. */
const packedModels = new WeakMap<ModelWeights, boolean>();

/**
 * Whether a step of B rows over `weights` reads panel-packed weight copies: one or two rows (split over threads, each
 * thread's columns are one stretch of memory; on one thread, two rows of bf16 weights stream faster from them too), on
 * a model whose copies all fit the packed-copy budget (a larger one reads its weights in place rather than a few
 * layers' copies, made at its first step).
 */
function packs(weights: ModelWeights, B: number): boolean {
  if (B > 2) return false;
  let all = packedModels.get(weights);
  if (all === undefined) {
    const head = packedHead(weights) && !weights.lmHead.packed ? weights.lmHead.kernel.size : 0;
    const missing = weights.layers.reduce((n, layer) => n + DECODER_PROJECTIONS.reduce((m, p) => m + (layer.proj[p].packed ? 0 : layer.proj[p].kernel.size), 0), head);
    packedModels.set(weights, (all = packedCopiesFit(missing)));
  }
  return all;
}

/** Head sizes the rotary kernel takes. */
const ropeKernel = (headDim: number) => headDim % 8 === 0;

/** A layer's weights fit the one-kernel step: frozen, all float32 or all `bf16`, biases on q/k/v at most. */
function stepLayerFits(layer: LayerWeights, bf16: boolean): boolean {
  return DECODER_PROJECTIONS.every((p, i) => {
    const w = layer.proj[p];
    return !isTrainable(w.kernel) && !!w.bf16 === bf16 && !(w.bias && i > 2);
  });
}

/**
 * A layer's inputs of {@link DECODER_STEP_KERNEL}, named `prefix` + the kernel's names (adapter pairs where it has them);
 * with `packed`, the weights' panel-packed copies too where the packed-copy budget keeps them.
 */
function layerInputs(inputs: Record<string, Tensor>, prefix: string, layer: LayerWeights, l: number, adapter: LoraAdapter | undefined, past: LayerCache, packed: boolean): void {
  Object.assign(inputs, { [`${prefix}inNorm`]: layer.inputNorm, [`${prefix}postNorm`]: layer.postAttentionNorm, [`${prefix}kPast`]: past.k, [`${prefix}vTPast`]: past.vT });
  for (const p of DECODER_PROJECTIONS) {
    const w = layer.proj[p];
    inputs[`${prefix}w_${p}`] = w.kernel;
    const copy = packed ? packedCopy(w) : undefined;
    if (copy) inputs[`${prefix}wp_${p}`] = copy;
    if (layer.proj[p].bias) inputs[`${prefix}bias_${p}`] = layer.proj[p].bias!;
    const pair = adapter?.layers[l]?.[p];
    if (!pair) continue;
    inputs[`${prefix}loraA_${p}`] = pair.a;
    inputs[`${prefix}loraB_${p}`] = pair.b;
  }
}

/** The inputs and attributes every layer of a step shares: row scales, rotary tables, the mask. */
function sharedInputs(s: Omit<DecoderStepInput, 'layer' | 'l' | 'past' | 'h'>, inputs: Record<string, Tensor>, bf16: boolean) {
  if (s.rows.adapters[0]) inputs.loraScale = s.scales.vector(0);
  [inputs.cos, inputs.sin] = s.rotary.tablesOf();
  inputs.bias = s.bias.tensor().reshape([s.B, s.Tk]);
  return stepAttrs(s.c, bf16);
}

/** The attributes of {@link DECODER_STEP_KERNEL}. */
const stepAttrs = (c: ModelConfig, bf16: boolean) => ({ eps: c.rmsNormEps, scale: 1 / Math.sqrt(c.headDim), heads: c.numHeads, bf16: bf16 ? 1 : 0 });

/** The attributes {@link MODEL_STEP_KERNEL} adds: the layer count and the head's dtype. */
const modelAttrs = (weights: ModelWeights) => ({ layers: weights.layers.length, headBf16: weights.lmHead.bf16 ? 1 : 0 });

/** Whether a step's rows and rotation fit the one-kernel step: outside a tape, one adapter at most, the rotary kernel. */
const stepFits = (s: Omit<DecoderStepInput, 'layer' | 'l' | 'past' | 'h'>) => !taping() && s.rows.adapters.length <= 1 && s.rotary.usesKernel;

/**
 * A decoding step's decoder layer as one kernel: frozen weights (all float32 or all bf16), q/k/v biases at most,
 * one adapter at most, the rotary kernel's head sizes, outside a tape. Null otherwise.
 */
function decoderStep(s: DecoderStepInput): { h: Tensor2D; k: Tensor4D; vT: Tensor4D } | null {
  const bf16 = !!s.layer.proj.q_proj.bf16;
  if (!stepFits(s) || !stepLayerFits(s.layer, bf16)) return null;
  const inputs: Record<string, Tensor> = { h: s.h };
  layerInputs(inputs, '', s.layer, s.l, s.rows.adapters[0], s.past, false);
  const [h, k, vT] = runMany(DECODER_STEP_KERNEL, inputs, sharedInputs(s, inputs, bf16));
  return { h: h as Tensor2D, k: k as Tensor4D, vT: vT as Tensor4D };
}

/**
 * How a model's weights fit the whole-step kernel: every layer fits {@link decoderStep}, the head is frozen, and the
 * lookup is in the kernel (`table`: the embedding table or a tied float32 head's kept transposed copy; undefined: the
 * float32 head's columns) or, with `lookup` false, given as embedded rows (a bf16 head without a table). Null otherwise.
 */
function wholeStepFit(weights: ModelWeights): { bf16: boolean; table?: Tensor2D; lookup: boolean } | null {
  const { layers, lmHead } = weights;
  const bf16 = !!layers[0].proj.q_proj.bf16;
  if (isTrainable(lmHead.kernel) || !layers.every((layer) => stepLayerFits(layer, bf16))) return null;
  const table = weights.embed ?? (lmHead.bf16 ? undefined : keptTranspose(lmHead));
  if (table && isTrainable(table)) return null;
  return { bf16, table, lookup: !!table || !lmHead.bf16 };
}

/** The model-wide inputs of {@link MODEL_STEP_KERNEL} for B rows: norm, head, the lookup table where there is one, every layer's. */
function modelInputs(weights: ModelWeights, table: Tensor2D | undefined, adapter: LoraAdapter | undefined, past: LayerCache[], B: number): Record<string, Tensor> {
  const inputs: Record<string, Tensor> = { norm: weights.norm, head: weights.lmHead.kernel };
  if (table) inputs.embed = table;
  const packed = packs(weights, B);
  weights.layers.forEach((layer, l) => layerInputs(inputs, `${l}.`, layer, l, adapter, past[l], packed));
  const headCopy = packed && packedHead(weights) ? packedCopy(weights.lmHead) : undefined;
  if (headCopy) inputs.headPacked = headCopy;
  return inputs;
}

/**
 * A whole decoding step (every layer, the final norm, the head) as one kernel where the weights fit
 * ({@link wholeStepFit}). Null otherwise.
 */
function modelStep(s: ModelStepInput): { logits: Tensor2D; cache: LayerCache[] } | null {
  const fit = stepFits(s) ? wholeStepFit(s.weights) : null;
  if (!fit) return null;
  const { layers } = s.weights;
  const inputs = modelInputs(s.weights, fit.table, s.rows.adapters[0], s.past, s.B);
  if (fit.lookup) inputs.ids = tf.tensor1d(s.ids, 'int32');
  else inputs.h = s.embedded();
  const [logits, ...caches] = runMany(MODEL_STEP_KERNEL, inputs, { ...sharedInputs(s, inputs, fit.bf16), ...modelAttrs(s.weights) });
  return { logits: logits as Tensor2D, cache: layers.map((_, l) => ({ k: caches[2 * l] as Tensor4D, vT: caches[2 * l + 1] as Tensor4D })) };
}

/**
 * A decoding session on the addon (the cache kept natively, appended in place) where the weights fit the
 * whole-step kernel with the lookup in it and the head size fits the rotary kernel. Null otherwise.
 */
function openDecodeSession(s: DecodeSessionInput): DecodeSession | null {
  const fit = taping() || !ropeKernel(s.c.headDim) ? null : wholeStepFit(s.weights);
  if (!fit || !fit.lookup) return null;
  const attrs = { ...stepAttrs(s.c, fit.bf16), ...modelAttrs(s.weights) };
  return openNativeDecodeSession(modelInputs(s.weights, fit.table, s.adapter ?? undefined, s.past, s.past[0].k.shape[0]), attrs, s.keyBias, s.loraScale, s.capacity);
}

/**
 * @cope/backend-native: tfjs ops on its kernels, and its fused kernels where they fit. RMSNorm and SwiGLU in one
 * kernel each, taped too (their gradient kernels read the inputs only). Outside a gradient tape: LoRA's scaled
 * add in one kernel (rows with scale 0 keep their values), and frozen-weight and LoRA products on its row-invariant
 * product (a row's logits never depend on the rows beside it, so batched decoding and the prompt cache match a
 * row alone bitwise); a decoding step's attention in one kernel. Rotary embedding on its kernel, in and out of a
 * tape (the gradient is the rotation by the opposite angle), and LoRA dropout on its seeded kernel (the mask is a
 * function of seed and element index, so the gradient is the same kernel). A whole decoding step, or a decoding
 * step's decoder layer, in one kernel where it applies (bitwise the op-by-op step).
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
  ropeKernel,
  frozenMatmul(x, w) {
    if (w.bf16) {
      if (taping()) throw new Error('a weight kept in bf16 has no gradient path: train with float32 weights (loadModel weights: float32)');
      return run<Tensor2D>(ROWS_MATMUL_KERNEL, { x, w: w.kernel }, { bf16: 1 });
    }
    return taping() ? tf.matMul(x, w.kernel) : run<Tensor2D>(ROWS_MATMUL_KERNEL, { x, w: w.kernel });
  },
  // Outside a tape, LoRA's products are row-invariant too: a row's update is the same in any batch, so the fused
  // steps can compute it for the rows that use the adapter only.
  adapterMatmul: (x, w) => (taping() ? tfOps.adapterMatmul(x, w) : run<Tensor2D>(ROWS_MATMUL_KERNEL, { x, w })),
  decoderStep,
  modelStep,
  openDecodeSession,
  dropout(x, rate, seed) {
    const apply = (t: Tensor) => run<Tensor>(DROPOUT_KERNEL, { x: t }, { rate, seed });
    const f = tf.customGrad(((xIn: Tensor, save: (ts: Tensor[]) => void) => {
      save([]);
      return { value: apply(xIn), gradFunc: (dy: Tensor) => apply(dy) };
    }) as any);
    return f(x) as Tensor2D;
  },
};
