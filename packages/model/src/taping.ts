import { tf } from './tf.js';

/**
 * Whether a gradient tape records (inside `tf.grad`, `variableGrads`, …). Custom gradients and the ops that
 * have no gradient (fused inference kernels) depend on it.
 */
export function taping(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}
