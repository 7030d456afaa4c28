import { tf, type Tensor1D } from '@cope/model';

/** log σ(x) = −(relu(−x) + log1p(exp(−|x|))): stable, and differentiable on every backend (tf.logSigmoid's gradient fails on wasm). */
function logSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.neg(tf.add(tf.relu(tf.neg(x)), tf.log1p(tf.exp(tf.neg(tf.abs(x))))));
}

export type DpoLossType = 'sigmoid' | 'ipo' | 'hinge';

export interface DpoLossConfig {
  /** β (CoPe `--dpo_beta` 0.01). */
  beta: number;
  /** trl's `loss_type` (default sigmoid). */
  lossType: DpoLossType;
  /** Conservative-DPO label smoothing (sigmoid only), trl default 0. */
  labelSmoothing: number;
}

export const DEFAULT_DPO_LOSS: DpoLossConfig = { beta: 0.01, lossType: 'sigmoid', labelSmoothing: 0 };

export interface DpoLossOutput {
  /** Mean loss over the batch (scalar). */
  loss: tf.Scalar;
  /** β·(log πθ − log πref) of the chosen completions, [batch]. */
  chosenRewards: Tensor1D;
  rejectedRewards: Tensor1D;
}

/**
 * trl 0.13's `dpo_loss` on summed completion log-probs [batch]:
 * - sigmoid: −(1−ε)·log σ(β·h) − ε·log σ(−β·h)
 * - ipo: (h − 1/(2β))²
 * - hinge: relu(1 − β·h)
 * where h = (log πθ(y_w) − log πref(y_w)) − (log πθ(y_l) − log πref(y_l)).
 */
export function dpoLoss(policyChosen: Tensor1D, policyRejected: Tensor1D, refChosen: Tensor1D, refRejected: Tensor1D, config: Partial<DpoLossConfig> = {}): DpoLossOutput {
  const c = { ...DEFAULT_DPO_LOSS, ...config };
  return tf.tidy(() => {
    const chosenRatio = tf.sub(policyChosen, refChosen);
    const rejectedRatio = tf.sub(policyRejected, refRejected);
    const h = tf.sub(chosenRatio, rejectedRatio);
    let losses: tf.Tensor;
    switch (c.lossType) {
      case 'sigmoid':
        losses = tf.sub(tf.mul(tf.neg(logSigmoid(tf.mul(h, c.beta))), 1 - c.labelSmoothing), tf.mul(logSigmoid(tf.mul(h, -c.beta)), c.labelSmoothing));
        break;
      case 'ipo':
        losses = tf.square(tf.sub(h, 1 / (2 * c.beta)));
        break;
      case 'hinge':
        losses = tf.relu(tf.sub(1, tf.mul(h, c.beta)));
        break;
      default:
        throw new Error(`Unknown DPO loss type "${c.lossType as string}": expected sigmoid, ipo or hinge`);
    }
    return {
      loss: tf.mean(losses) as tf.Scalar,
      chosenRewards: tf.mul(chosenRatio, c.beta) as Tensor1D,
      rejectedRewards: tf.mul(rejectedRatio, c.beta) as Tensor1D,
    };
  }) as DpoLossOutput;
}
