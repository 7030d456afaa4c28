import { type Rng } from '@cope/core';
import { completionLogProbSums, tf, type CausalLM, type LoraAdapter, type Tensor1D } from '@cope/model';
import { tapedGradients, type BatchGradients } from '@cope/sft';
import { dpoLoss, type DpoLossConfig, type DpoLossOutput } from './loss.js';
import type { DpoExample } from './trainer.js';

/** trl's reward statistics of a batch, as scalars. */
function rewardLogs(out: DpoLossOutput, pc: Tensor1D, pr: Tensor1D): Record<string, tf.Scalar> {
  const { chosenRewards: ch, rejectedRewards: rj } = out;
  return {
    'rewards/chosen': tf.mean(ch),
    'rewards/rejected': tf.mean(rj),
    'rewards/margins': tf.mean(tf.sub(ch, rj)),
    'rewards/accuracies': tf.mean(tf.cast(tf.greater(ch, rj), 'float32')),
    'logps/chosen': tf.mean(pc),
    'logps/rejected': tf.mean(pr),
  } as Record<string, tf.Scalar>;
}

/**
 * One DPO batch's loss, LoRA gradients and reward statistics. By default one gradient tape over the batch's
 * chosen and rejected completions together. `separate`: each completion in its own forward and backward pass
 * (the activations of one sequence at a time, for models whose pair does not fit twice): the loss depends on
 * the policy's log-probs only through their values, so its gradient is Σ ∂L/∂logp_i · ∇logp_i, each ∇logp_i from
 * its own pass. The same gradients up to float32 rounding, except that LoRA dropout draws other masks.
 */
export async function dpoGradients(model: CausalLM, adapter: LoraAdapter, batch: DpoExample[], loss: DpoLossConfig, rng: Rng, variables: tf.Variable[], separate = false): Promise<BatchGradients> {
  const completions = [...batch.map((t) => ({ prompt: t.prompt, completion: t.chosen })), ...batch.map((t) => ({ prompt: t.prompt, completion: t.rejected }))];
  const refs = () => [tf.tensor1d(batch.map((t) => t.refChosen)), tf.tensor1d(batch.map((t) => t.refRejected))] as Tensor1D[];
  if (!separate) {
    return tapedGradients(() => {
      const [pc, pr] = tf.split(completionLogProbSums(model, completions, adapter, rng), 2) as Tensor1D[];
      const [rc, rr] = refs();
      const out = dpoLoss(pc, pr, rc, rr, loss);
      return { loss: out.loss, logs: rewardLogs(out, pc, pr) };
    }, variables);
  }
  const logps: number[] = [];
  const perSequence: Array<Record<string, tf.Tensor>> = [];
  for (const c of completions) {
    const { value, grads } = tf.variableGrads(() => completionLogProbSums(model, [c], adapter, rng).reshape([]) as tf.Scalar, variables);
    logps.push((await value.data())[0]);
    value.dispose();
    perSequence.push(grads);
  }
  const B = batch.length;
  const [pc, pr] = [tf.tensor1d(logps.slice(0, B)), tf.tensor1d(logps.slice(B))];
  const [rc, rr] = refs();
  // ∂L/∂logp for every completion, on the batch's log-prob values.
  const { value, grads: [dc, dr] } = tf.tidy(() => tf.valueAndGrads((c: tf.Tensor, r: tf.Tensor) => dpoLoss(c as Tensor1D, r as Tensor1D, rc, rr, loss).loss)([pc, pr]));
  const coefficients = [...(await dc.data()), ...(await dr.data())];
  const grads = tf.tidy(() => Object.fromEntries(Object.keys(perSequence[0]).map((k) => [k, tf.addN(perSequence.map((g, i) => tf.mul(g[k], coefficients[i])))])));
  const logs = tf.tidy(() => rewardLogs(dpoLoss(pc, pr, rc, rr, loss), pc, pr));
  tf.dispose([...perSequence.flatMap((g) => Object.values(g)), pc, pr, rc, rr, dc, dr]);
  return { loss: value as tf.Scalar, grads, logs };
}
