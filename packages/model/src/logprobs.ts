import { LOG_SOFTMAX_PICK_GRAD_KERNEL, LOG_SOFTMAX_PICK_KERNEL } from '@cope/backend-native';
import { tf } from './tf.js';
import { backendKernel } from './wasm/heap-module.js';
import type { Tensor1D, Tensor2D, Tensor3D } from './tf.js';
import { forward, type AdapterChoice } from './transformer.js';
import type { CausalLM } from './weights.js';
import type { Rng } from '@cope/core';

/** A prompt and a completion, both as token ids. */
export interface PromptCompletion {
  prompt: number[];
  completion: number[];
}

export interface SequenceLogProbs {
  /** Per completion token, log p(token | everything before it). */
  perToken: number[];
  sum: number;
  mean: number;
}

/**
 * Pads prompt+completion pairs on the right into one batch.
 * @returns ids [batch][maxLen], the attention mask, and a target mask [batch][maxLen] that is 1 where
 * position t's logits predict a completion token (t + 1).
 */
export function packPromptCompletions(pairs: PromptCompletion[], padId = 0): { ids: number[][]; mask: number[][]; targetMask: number[][] } {
  const maxLen = Math.max(...pairs.map((p) => p.prompt.length + p.completion.length));
  const ids: number[][] = [];
  const mask: number[][] = [];
  const targetMask: number[][] = [];
  for (const { prompt, completion } of pairs) {
    if (prompt.length === 0) throw new Error('packPromptCompletions: the prompt needs at least one token (e.g. BOS) to predict the completion from');
    const seq = prompt.concat(completion);
    const n = seq.length;
    ids.push(seq.concat(new Array(maxLen - n).fill(padId)));
    mask.push(new Array(n).fill(1).concat(new Array(maxLen - n).fill(0)));
    targetMask.push(Array.from({ length: maxLen }, (_, t) => (t >= prompt.length - 1 && t < n - 1 ? 1 : 0)));
  }
  return { ids, mask, targetMask };
}

/**
 * Log-probabilities of each next token: `out[b, t] = log softmax(logits[b, t])[ids[b, t + 1]]`.
 * The last position has no next token and gets 0.
 * @param logits [batch, seq, vocab]
 * @returns [batch, seq]
 */
export function tokenLogProbs(logits: Tensor3D, ids: number[][]): Tensor2D {
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) targets[b * T + t] = t + 1 < T ? ids[b][t + 1] : 0;
    const picked = pickedLogProbs(logits.reshape([B * T, V]) as Tensor2D, tf.tensor1d(targets, 'int32'));
    const lastMask = new Float32Array(B * T).fill(1);
    for (let b = 0; b < B; b++) lastMask[b * T + T - 1] = 0;
    return tf.mul(picked, tf.tensor1d(lastMask)).reshape([B, T]) as Tensor2D;
  });
}

/**
 * `log softmax(logits)[row, target[row]]` → [N], with one exponential pass over [N, vocab]: the softmax
 * of the forward pass is kept for the gradient `(onehot − p)·dy`, instead of autodiff through a
 * log-softmax (which exponentiates again). The target logits are gathered (forward only); the one-hot
 * stands in for gather's gradient, missing on wasm, and is made in the backward pass. Int32 one-hot avoids
 * wasm's broken float32 one-hot. The forward's other [N, vocab] intermediates are freed as soon as p is
 * made, since a training step holds several of them otherwise (262 MB each for 16 sequences of 128 tokens
 * over 32k tokens).
 */
function pickedLogProbs(logits: Tensor2D, targets: Tensor1D): Tensor1D {
  if (backendKernel(LOG_SOFTMAX_PICK_KERNEL)) return fusedPickedLogProbs(logits, targets);
  const [N, V] = logits.shape;
  const f = tf.customGrad(((x: tf.Tensor, tgt: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
    const [value, p] = tf.tidy(() => {
      const max = tf.max(x, -1, true);
      const e = tf.exp(tf.sub(x, max));
      const sum = tf.sum(e, -1, true);
      const lse = tf.add(tf.log(sum), max);
      // Row r's target sits at r·V + target[r] of the flattened logits.
      const flat = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), tgt);
      const picked = tf.gather(tf.reshape(x, [-1]), flat as Tensor1D);
      return [tf.sub(picked, tf.reshape(lse, [-1])), tf.div(e, sum)];
    });
    save([p, tgt]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        tf.mul(tf.sub(tf.cast(tf.oneHot(saved[1] as Tensor1D, V), 'float32'), saved[0]), tf.expandDims(dy, -1)),
        tf.zerosLike(saved[1]),
      ],
    };
  }) as any);
  return f(logits, targets) as Tensor1D;
}

/**
 * {@link pickedLogProbs} on a backend with the fused kernels (the native one): one pass over each row forward,
 * one backward, which recomputes the softmax from the logits rather than keeping it.
 */
function fusedPickedLogProbs(logits: Tensor2D, targets: Tensor1D): Tensor1D {
  const f = tf.customGrad(((x: tf.Tensor, tgt: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
    save([x, tgt]);
    return {
      value: tf.engine().runKernel(LOG_SOFTMAX_PICK_KERNEL, { logits: x, targets: tgt }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        tf.engine().runKernel(LOG_SOFTMAX_PICK_GRAD_KERNEL, { logits: saved[0], targets: saved[1], dy }) as tf.Tensor,
        tf.zerosLike(saved[1]),
      ],
    };
  }) as any);
  return f(logits, targets) as Tensor1D;
}

/**
 * Completion log-probs for a batch of prompt+completion pairs in one forward pass.
 * `adapters` picks the adapter per row (e.g. the user's adapter and none, side by side).
 */
export async function sequenceLogProbs(model: CausalLM, pairs: PromptCompletion[], adapters?: AdapterChoice): Promise<SequenceLogProbs[]> {
  const { ids, mask, targetMask } = packPromptCompletions(pairs, model.config.padTokenId ?? 0);
  const lp = tf.tidy(() => tokenLogProbs(forward(model, ids, { attentionMask: mask, adapters }).logits, ids));
  const values = (await lp.array()) as number[][];
  lp.dispose();
  return values.map((row, b) => {
    const perToken = row.filter((_, t) => targetMask[b][t] === 1);
    const sum = perToken.reduce((a, x) => a + x, 0);
    return { perToken, sum, mean: perToken.length ? sum / perToken.length : 0 };
  });
}

/**
 * Differentiable summed completion log-probs for a batch of prompt+completion pairs: `[batch]`.
 * Used as the policy term of DPO (gradients flow to the adapter).
 */
export function completionLogProbSums(model: CausalLM, pairs: PromptCompletion[], adapters?: AdapterChoice, dropoutRng?: Rng): Tensor1D {
  return tf.tidy(() => {
    const { ids, mask, targetMask } = packPromptCompletions(pairs, model.config.padTokenId ?? 0);
    const lp = tokenLogProbs(forward(model, ids, { attentionMask: mask, adapters, dropoutRng }).logits, ids);
    return tf.sum(tf.mul(lp, tf.tensor2d(targetMask)), -1) as Tensor1D;
  });
}
