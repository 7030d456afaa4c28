import { affine, expShiftSum, kernelInput, logAffine, logContrastAtLeast, maxOf, nativePicks, nativeScratch, pickThreads, sumAtLeast, workspace } from './kernels/vector-math.js';

/**
 * The per-step scoring math over the vocabulary: greedy's argmax and log-softmax, and CoPe's contrastive
 * scores (`contrastive_decoding` in CoPe's scripts/OPPU_sft+dpo.py). The vocabulary-wide exponentials and logarithms run in the vector kernels,
 * in float32 as the published PyTorch code computes them (the logits are float32 already).
 */

/** The settings the contrastive scores depend on. */
export interface ContrastiveMath {
  /** λ, the weight of the amateur's log-probability (CoPe `--contrastive_alpha`, default 0.1). */
  contrastiveAlpha: number;
  /** Plausibility threshold relative to the expert's top probability (CoPe's hard-coded 0.1). */
  plausibility: number;
  /** Masked tokens score log(1e-8) as published (`eps`) or are removed (`inf`). */
  masked: 'eps' | 'inf';
}

const EPS = 1e-8;
const LOG_EPS = Math.log(EPS);

/** Logits as the passes' input: read in place where the passes can (float32 logits, native passes), else copied into `room`. */
function asInput(logits: ArrayLike<number>, room: Float32Array): Float32Array {
  if (logits instanceof Float32Array) return kernelInput(logits, room);
  room.set(logits);
  return room;
}

/** The native steps' results, [token, Σ exp(x − x[token])], and the contrastive step's settings. */
const picked = new Float64Array(2);
const settings = Float64Array.of(0, 0, EPS, LOG_EPS, 0);

/** Greedy step: the argmax (first on ties, as torch.argmax) and its log-softmax. */
export function argmaxLogSoftmax(logits: ArrayLike<number>): { token: number; logProb: number } {
  // One native call where the addon has it: the passes below, fused (bitwise the same, tested).
  const nk = logits instanceof Float32Array ? nativePicks(logits.length) : null;
  if (nk) {
    nk.greedyPick(logits as Float32Array, logits.length, picked, pickThreads());
    return { token: picked[0], logProb: -Math.log(picked[1]) };
  }
  const [room, scratch] = workspace(logits.length, 2);
  const x = asInput(logits, room);
  const m = maxOf(x);
  const token = Math.max(0, x.indexOf(m));
  if (!Number.isFinite(m)) return { token, logProb: NaN };
  return { token, logProb: -Math.log(expShiftSum(x, scratch, m)) };
}

/**
 * CoPe's contrastive scores (in kernel memory, valid until the next call) and their argmax (first on
 * ties). Every pass over the vocabulary runs in the kernels: the two softmaxes' exponentials, the amateur's
 * log-probabilities, the masked tokens' scores, and the plausible tokens' sum and scores.
 */
function score(expertLogits: ArrayLike<number>, amateurLogits: ArrayLike<number>, c: ContrastiveMath): { scores: Float32Array; token: number; scratch: Float32Array } {
  const V = expertLogits.length;
  const [pE, logA, scores] = workspace(V, 3);
  const expert = asInput(expertLogits, pE);
  const amateur = asInput(amateurLogits, logA);
  // Unnormalised expert probabilities: the largest is exactly 1, so the plausible set is pE >= α.
  const zE = expShiftSum(expert, pE, maxOf(expert));
  const zA = expShiftSum(amateur, logA, maxOf(amateur));
  logAffine(logA, 1 / zA, EPS); // log(p_amateur + ε)
  const lam = c.contrastiveAlpha;
  // Every token first gets the masked score, log ε − λ·log(p_amateur + ε) (or −∞); the plausible ones are overwritten.
  if (c.masked === 'inf') scores.fill(-Infinity);
  else if (lam === 0) scores.fill(LOG_EPS);
  else affine(logA, scores, -lam, LOG_EPS);
  // log(q + ε) − λ·log(p_amateur + ε), q = the expert's probability renormalised over the plausible set:
  // pE / zE / (kept / zE + ε). Blocks of the vocabulary without a plausible token are skipped.
  const kept = sumAtLeast(pE, c.plausibility);
  logContrastAtLeast(pE, logA, scores, c.plausibility, 1 / (kept + EPS * zE), EPS, lam);
  const token = Math.max(0, scores.indexOf(maxOf(scores)));
  // The expert's probabilities are no longer needed: their memory is the caller's scratch.
  return { scores, token, scratch: pE };
}

/**
 * {@link score} and the log-softmax normaliser at its argmax in one native call where the addon has it (its passes
 * fused, bitwise the same: tested), else null.
 */
function nativeScore(expertLogits: ArrayLike<number>, amateurLogits: ArrayLike<number>, c: ContrastiveMath): { scores: Float32Array; token: number; sum: number } | null {
  const V = expertLogits.length;
  const nk = expertLogits instanceof Float32Array && amateurLogits instanceof Float32Array && amateurLogits.length === V ? nativePicks(V) : null;
  if (!nk) return null;
  // The scores overwrite the amateur's exponentials as they are read (less memory to bring into the caches each step).
  const [pE, pA] = nativeScratch(V, 2);
  const scores = pA;
  settings[0] = c.contrastiveAlpha;
  settings[1] = c.plausibility;
  settings[4] = c.masked === 'inf' ? 1 : 0;
  nk.contrastivePick(expertLogits as Float32Array, amateurLogits as Float32Array, V, pE, pA, scores, settings, picked, pickThreads());
  return { scores, token: picked[0], sum: picked[1] };
}

/**
 * CoPe's contrastive scores for one step: the expert's plausible set, renormalised, minus λ times the
 * amateur's log-probabilities (float32 values, as the kernels compute them).
 */
export function contrastiveScores(expertLogits: ArrayLike<number>, amateurLogits: ArrayLike<number>, c: ContrastiveMath): Float64Array {
  return new Float64Array((nativeScore(expertLogits, amateurLogits, c) ?? score(expertLogits, amateurLogits, c)).scores);
}

/** Greedy contrastive step: the scores' argmax and its log-softmax. */
export function contrastiveGreedy(expertLogits: ArrayLike<number>, amateurLogits: ArrayLike<number>, c: ContrastiveMath): { token: number; logProb: number } {
  const fused = nativeScore(expertLogits, amateurLogits, c);
  if (fused) return { token: fused.token, logProb: -Math.log(fused.sum) };
  const { scores, token, scratch } = score(expertLogits, amateurLogits, c);
  const m = scores[token];
  if (!Number.isFinite(m)) return { token, logProb: NaN };
  return { token, logProb: -Math.log(expShiftSum(scores, scratch, m)) };
}
