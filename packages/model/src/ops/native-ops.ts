import { DROPOUT_KERNEL, RMS_NORM_KERNEL, ROWS_MATMUL_KERNEL, SCALED_ADD_KERNEL, SWIGLU_KERNEL } from '@cope/backend-native';
import { tf } from '../tf.js';
import type { Tensor, Tensor2D } from '../tf.js';
import { taping } from '../taping.js';
import type { Ops } from './ops.js';
import { tfOps } from './tf-ops.js';

const run = <T extends Tensor>(name: string, inputs: Record<string, Tensor>, attrs: Record<string, number> = {}): T =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as T;

/**
 * @cope/backend-native: tfjs ops on its kernels, and its fused kernels where they fit. Outside a gradient tape:
 * RMSNorm, SwiGLU and LoRA's scaled add in one kernel each, and frozen-weight products on its row-invariant
 * product (a row's logits never depend on the rows beside it, so batched decoding and the prompt cache match a
 * row alone bitwise). LoRA dropout on its seeded kernel, in and out of a tape (the mask is a function of seed and
 * element index, so the gradient is the same kernel).
 */
export const nativeOps: Ops = {
  ...tfOps,
  rmsNorm: (x, w, eps) => (taping() ? tfOps.rmsNorm(x, w, eps) : run<Tensor2D>(RMS_NORM_KERNEL, { x, w }, { eps })),
  swiGlu: (gate, up) => (taping() ? tfOps.swiGlu(gate, up) : run<Tensor2D>(SWIGLU_KERNEL, { gate, up })),
  addScaled: (y, delta, factor, vector) => (taping() ? tfOps.addScaled(y, delta, factor, vector) : run<Tensor2D>(SCALED_ADD_KERNEL, { y, delta, scale: vector() })),
  frozenMatmul: (x, w) => (taping() ? tf.matMul(x, w.kernel) : run<Tensor2D>(ROWS_MATMUL_KERNEL, { x, w: w.kernel })),
  dropout(x, rate, seed) {
    const apply = (t: Tensor) => run<Tensor>(DROPOUT_KERNEL, { x: t }, { rate, seed });
    const f = tf.customGrad(((xIn: Tensor, save: (ts: Tensor[]) => void) => {
      save([]);
      return { value: apply(xIn), gradFunc: (dy: Tensor) => apply(dy) };
    }) as any);
    return f(x) as Tensor2D;
  },
};
