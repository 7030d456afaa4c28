import { DROPOUT_KERNEL } from '@cope/backend-native';
import { tf, type Tensor, type Tensor2D } from './tf.js';
import { backendKernel } from './kernels/heap-module.js';

/**
 * Inverted dropout of `x` with `rate`, seeded: the active backend's `CopeDropout` kernel where it has one (the
 * native backend: a mask from the seed and element index, so the gradient applies the same mask), else
 * tf.dropout. The two draw different masks, so adapters trained on different backends differ.
 */
export function seededDropout(x: Tensor2D, rate: number, seed: number): Tensor2D {
  if (!backendKernel(DROPOUT_KERNEL)) return tf.dropout(x, rate, undefined, seed) as Tensor2D;
  const apply = (t: Tensor) => tf.engine().runKernel(DROPOUT_KERNEL, { x: t }, { rate, seed }) as Tensor;
  const f = tf.customGrad(((xIn: Tensor, save: (ts: Tensor[]) => void) => {
    save([]);
    return { value: apply(xIn), gradFunc: (dy: Tensor) => apply(dy) };
  }) as any);
  return f(x) as Tensor2D;
}
