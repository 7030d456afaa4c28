import { tf } from '@cope/model';

/**
 * torch.nn.utils.clip_grad_norm_: scales all gradients by `maxNorm / (norm + 1e-6)` when that is below 1.
 * @returns the clipped gradients (new tensors) and the global norm before clipping.
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: number } {
  const names = Object.keys(grads);
  const normT = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))))));
  const norm = normT.dataSync()[0];
  normT.dispose();
  const coef = maxNorm / (norm + 1e-6);
  const out: Record<string, tf.Tensor> = {};
  for (const n of names) out[n] = coef < 1 ? tf.mul(grads[n], coef) : tf.clone(grads[n]);
  return { grads: out, norm };
}
