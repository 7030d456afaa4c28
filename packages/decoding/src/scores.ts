import { expShiftSum, logAffine, workspace } from './kernels/vector-math.js';

/**
 * The per-step scoring math over the vocabulary: greedy's argmax and log-softmax, and CoPe's contrastive
 * scores (cope-reference.md §8). The vocabulary-wide exponentials and logarithms run in the vector kernels.
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

/** Indices of the plausible tokens, reused between steps (decoding runs one step at a time). */
let plausibleIndex = new Int32Array(0);

/** Copies values into the float32 kernel array when they are float32, else into the float64 one. */
function inKernel(values: ArrayLike<number>, f32: Float32Array, f64: Float64Array): Float32Array | Float64Array {
  const target = values instanceof Float32Array ? f32 : f64;
  target.set(values);
  return target;
}

/** Greedy step: the argmax (first on ties, as torch.argmax) and its log-softmax. */
export function argmaxLogSoftmax(logits: ArrayLike<number>): { token: number; logProb: number } {
  const { f64: [exps], f32: [x32] } = workspace(logits.length, 1, 1);
  const x = inKernel(logits, x32, exps);
  let token = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[token]) token = i;
  const m = x[token];
  if (!Number.isFinite(m)) return { token, logProb: NaN };
  return { token, logProb: -Math.log(expShiftSum(x, exps, m)) };
}

/**
 * CoPe's contrastive scores into `out` (kernel memory when null) and their argmax (first on ties). The
 * vocabulary-wide exponentials and logarithms (two softmaxes, the amateur's log-probabilities, the
 * plausible tokens' renormalised log-probabilities) run in the vector kernels.
 */
function scoreInto(out: Float64Array | null, expertLogits: ArrayLike<number>, amateurLogits: ArrayLike<number>, c: ContrastiveMath): { scores: Float64Array; token: number } {
  const V = expertLogits.length;
  const { f64: [pE, logA, logQ, scratch], f32: [e32, a32] } = workspace(V, 4, 2);
  const scores = out ?? scratch;
  // Logits are copied into kernel memory as they come: float32 from a model, float64 kept exact.
  const e = inKernel(expertLogits, e32, pE);
  const a = inKernel(amateurLogits, a32, logA);
  let maxE = -Infinity;
  let maxA = -Infinity;
  for (let i = 0; i < V; i++) {
    if (e[i] > maxE) maxE = e[i];
    if (a[i] > maxA) maxA = a[i];
  }
  // Unnormalised expert probabilities: the largest is exactly 1, so the plausible set is pE >= α.
  const zE = expShiftSum(e, pE, maxE);
  const zA = expShiftSum(a, logA, maxA);
  logAffine(logA, 1 / zA, EPS); // log(p_amateur + ε)
  const lam = c.contrastiveAlpha;
  const inf = c.masked === 'inf';
  if (plausibleIndex.length < V) plausibleIndex = new Int32Array(V);
  const idx = plausibleIndex;
  let n = 0;
  let kept = 0;
  let token = -1;
  for (let i = 0; i < V; i++) {
    if (pE[i] >= c.plausibility) {
      kept += pE[i];
      idx[n++] = i;
    } else {
      const s = (scores[i] = inf ? -Infinity : lam === 0 ? LOG_EPS : LOG_EPS - lam * logA[i]);
      if (token < 0 || s > scores[token]) token = i;
    }
  }
  // log(q + ε), q = the expert's probability renormalised over the plausible set: pE / zE / (kept / zE + ε).
  // A vector pass too, since an untrained model can have thousands of plausible tokens.
  const q = logQ.subarray(0, n);
  for (let j = 0; j < n; j++) q[j] = pE[idx[j]];
  logAffine(q, 1 / (kept + EPS * zE), EPS);
  for (let j = 0; j < n; j++) {
    const i = idx[j];
    const s = (scores[i] = lam === 0 ? q[j] : q[j] - lam * logA[i]);
    if (token < 0 || s > scores[token] || (s === scores[token] && i < token)) token = i;
  }
  return { scores, token };
}

/**
 * CoPe's contrastive scores for one step: the expert's plausible set, renormalised, minus λ times the
 * amateur's log-probabilities.
 */
export function contrastiveScores(expertLogits: ArrayLike<number>, amateurLogits: ArrayLike<number>, c: ContrastiveMath): Float64Array {
  return scoreInto(new Float64Array(expertLogits.length), expertLogits, amateurLogits, c).scores;
}

/** Greedy contrastive step: the scores' argmax and its log-softmax (the scores stay in kernel memory). */
export function contrastiveGreedy(expertLogits: ArrayLike<number>, amateurLogits: ArrayLike<number>, c: ContrastiveMath): { token: number; logProb: number } {
  const { scores, token } = scoreInto(null, expertLogits, amateurLogits, c);
  const m = scores[token];
  if (!Number.isFinite(m)) return { token, logProb: NaN };
  return { token, logProb: -Math.log(expShiftSum(scores, scores, m)) };
}
