import { tf, tokenLogProbs, type Tensor3D } from '@cope/model';

/**
 * Causal-LM cross-entropy on target tokens only: `labelMask[b][t] = 1` where token t is a target (its
 * prediction comes from position t - 1). Mean over all target tokens of the batch, as HF's loss with
 * -100 labels.
 * @param logits [batch, seq, vocab]
 */
export function maskedCrossEntropy(logits: Tensor3D, ids: number[][], labelMask: number[][]): tf.Scalar {
  return tf.tidy(() => {
    const [B, T] = logits.shape;
    // Position t predicts token t + 1: shift the label mask left by one.
    const w = new Float32Array(B * T);
    let count = 0;
    for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) if (labelMask[b][t + 1]) { w[b * T + t] = 1; count++; }
    if (count === 0) throw new Error('maskedCrossEntropy: the batch has no target tokens');
    const lp = tokenLogProbs(logits, ids);
    return tf.div(tf.neg(tf.sum(tf.mul(lp, tf.tensor2d(w, [B, T])))), count) as tf.Scalar;
  });
}
