import { expShift } from './kernels/exp-f64.js';

/**
 * Logits processors over one row of scores (host Float64Array, length vocab), following the Hugging Face
 * implementations. Each returns a new array; -Infinity marks a removed token. The softmaxes' exponentials
 * are Math.exp's, bit for bit, from a vector kernel (kernels/exp-f64.wat).
 */
export type LogitsProcessor = (scores: Float64Array, history: readonly number[]) => Float64Array;

/** Divides scores by `t` (HF TemperatureLogitsWarper). */
export function temperature(t: number): LogitsProcessor {
  if (!(t > 0)) throw new Error(`temperature must be > 0, got ${t}`);
  return (s) => {
    if (t === 1) return s;
    const out = new Float64Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s[i] / t;
    return out;
  };
}

/** Keeps the `k` highest scores (ties at the k-th value are kept, as HF's `< topk[-1]` rule does). */
export function topK(k: number): LogitsProcessor {
  if (!Number.isInteger(k) || k < 0) throw new Error(`top-k must be a non-negative integer, got ${k}`);
  return (s) => {
    if (k === 0 || k >= s.length) return s;
    const kth = kthLargest(s, k);
    const out = new Float64Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s[i] < kth ? -Infinity : s[i];
    return out;
  };
}

/** The k-th largest value (duplicates counted), by a size-k min-heap: O(V log k), no sort of the vocabulary. */
function kthLargest(s: Float64Array, k: number): number {
  const heap = new Float64Array(k);
  let size = 0;
  for (let i = 0; i < s.length; i++) {
    const x = s[i];
    if (size < k) {
      let c = size++;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (heap[parent] <= x) break;
        heap[c] = heap[parent];
        c = parent;
      }
      heap[c] = x;
    } else if (x > heap[0]) {
      // Replace the smallest kept value and sift down.
      let c = 0;
      for (;;) {
        let child = 2 * c + 1;
        if (child >= k) break;
        if (child + 1 < k && heap[child + 1] < heap[child]) child++;
        if (heap[child] >= x) break;
        heap[c] = heap[child];
        c = child;
      }
      heap[c] = x;
    }
  }
  return heap[0];
}

/**
 * Nucleus filtering (HF TopPLogitsWarper): sort ascending, drop the tokens whose cumulative probability
 * is <= 1 - p, always keep the most likely token. Equivalently, walking down from the most likely token,
 * a token is kept while the probability of the tokens above it is < p, so only the tokens holding the
 * nucleus are sorted. When the decision at the nucleus boundary is within rounding of p, HF's ascending
 * cumulative sum decides, so the result is HF's rule to the last bit.
 */
export function topP(p: number): LogitsProcessor {
  if (!(p > 0 && p <= 1)) throw new Error(`top-p must be in (0, 1], got ${p}`);
  return (s) => (p >= 1 ? s : nucleus(s, p).kept);
}

/** Softmax numerators exp(s − max) of a row (0 for removed tokens), with that max. */
export interface Numerators {
  e: Float64Array;
  max: number;
}

/**
 * {@link topP}'s filtering of `s` (`kept`), with the softmax numerators of `s` it computed on the way, from
 * which the kept tokens are sampled without another pass of exponentials ({@link sampleWithLogProb}).
 */
export function nucleus(s: Float64Array, p: number): { kept: Float64Array; numerators: Numerators } {
  const { e, z, m, low } = softmaxNumerators(s);
  const kept = nucleusFromTop(s, e, z, m, low, p) ?? nucleusBySort(s, probabilities(e, z), p);
  return { kept, numerators: { e, max: m } };
}

/** The indices of the tokens `s` keeps (every score but −∞), ascending. */
function supportOf(s: Float64Array): Int32Array {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s[i] !== -Infinity) n++;
  const out = new Int32Array(n);
  for (let i = 0, j = 0; i < s.length; i++) if (s[i] !== -Infinity) out[j++] = i;
  return out;
}

/** Softmax probabilities from numerators and their sum: e / z, as softmax divides (0 stays 0). */
function probabilities(e: Float64Array, z: number): Float64Array {
  const probs = new Float64Array(e.length);
  for (let i = 0; i < e.length; i++) probs[i] = e[i] !== 0 ? e[i] / z : e[i];
  return probs;
}

/** Margin well beyond the rounding of a cumulative sum over a vocabulary (about V·2⁻⁵³, 4e-12 for 32k tokens). */
const NUCLEUS_MARGIN = 1e-9;
/** Score buckets for {@link nucleusFromTop}: enough that the boundary's bucket holds few tokens. */
const NUCLEUS_BUCKETS = 4096;

/** Scratch of {@link nucleusFromTop}, grown as needed (the processors run synchronously, one call at a time). */
let bucketScratch = new Int32Array(0);
const massScratch = new Float64Array(NUCLEUS_BUCKETS);

/**
 * {@link topP} walking down from the top; null when the boundary is within rounding of p. `e`, `z`: the row's
 * softmax numerators and their sum (a token's probability is e / z); `top`, `low`: the largest score and the
 * smallest with a nonzero numerator.
 */
function nucleusFromTop(s: Float64Array, e: Float64Array, z: number, top: number, low: number, p: number): Float64Array | null {
  // Tokens are bucketed by score below the top (K buckets over the range of scores), so only the bucket
  // holding the boundary is sorted; the buckets above it are kept whole, those below removed. Any bucketing
  // that is monotone in the score gives the same result.
  if (top === -Infinity) return null;
  const V = s.length;
  const K = Math.min(NUCLEUS_BUCKETS, V);
  const perWidth = 1 / ((top - low) / K || 1);
  // Each token's bucket (-1: probability 0, never kept), and each bucket's numerators' sum (its probability
  // times z). The buckets' probabilities round differently from the tokens' sum, which the margin absorbs.
  if (bucketScratch.length < V) bucketScratch = new Int32Array(V);
  const bucket = bucketScratch;
  const mass = massScratch.fill(0, 0, K);
  for (let i = 0; i < V; i++) {
    const x = e[i];
    if (!(x / z > 0)) {
      bucket[i] = -1;
      continue;
    }
    // Truncation is the floor here: the distance below the top is not negative.
    let b = ((top - s[i]) * perWidth) | 0;
    if (b > K - 1) b = K - 1;
    bucket[i] = b;
    mass[b] += x;
  }
  let above = 0;
  let boundary = 0;
  while (boundary < K - 1 && above + mass[boundary] / z < p) above += mass[boundary++] / z;
  // Every token of the buckets above has less than `above` above it: safely below p, or the caller sorts.
  if (above > p - NUCLEUS_MARGIN) return null;
  const out = new Float64Array(V).fill(-Infinity);
  const members: number[] = [];
  for (let i = 0; i < V; i++) {
    const b = bucket[i];
    if (b < 0 || b > boundary) continue;
    if (b < boundary) out[i] = s[i];
    else members.push(i);
  }
  // Descending by score, then by index: the reverse of HF's ascending sort with the index as tie-break.
  members.sort((a, b) => s[b] - s[a] || b - a);
  for (const i of members) {
    if (Math.abs(above - p) <= NUCLEUS_MARGIN) return null;
    if (above > p) return out;
    out[i] = s[i];
    above += e[i] / z;
  }
  // The whole bucket kept: the next token (in a lower bucket, if any) is the first one removed.
  return boundary === K - 1 || above > p + NUCLEUS_MARGIN ? out : null;
}

/** {@link topP} by HF's literal rule: ascending sort (index as tie-break) and cumulative sum. */
function nucleusBySort(s: Float64Array, probs: Float64Array, p: number): Float64Array {
  const order = Array.from(s.keys()).sort((a, b) => s[a] - s[b] || a - b);
  const out = s.slice();
  let cum = 0;
  for (let r = 0; r < order.length - 1; r++) {
    cum += probs[order[r]];
    if (cum <= 1 - p) out[order[r]] = -Infinity;
  }
  return out;
}

/**
 * HF RepetitionPenaltyLogitsProcessor: every token id in `history` (prompt and generated) has its score
 * multiplied by `penalty` when negative, divided by it otherwise.
 */
export function repetitionPenalty(penalty: number): LogitsProcessor {
  if (!(penalty > 0)) throw new Error(`repetition penalty must be > 0, got ${penalty}`);
  return (s, history) => {
    if (penalty === 1) return s;
    const out = s.slice();
    for (const id of new Set(history)) out[id] = s[id] < 0 ? s[id] * penalty : s[id] / penalty;
    return out;
  };
}

/** Runs processors in order. */
export function chain(...ps: LogitsProcessor[]): LogitsProcessor {
  return (s, h) => ps.reduce((acc, p) => p(acc, h), s);
}

/** Numerically stable softmax. Removed tokens (-Infinity) are skipped: their probability is exactly 0. */
export function softmax(s: ArrayLike<number>): Float64Array {
  const { e, z } = softmaxNumerators(s);
  for (let i = 0; i < e.length; i++) if (e[i] !== 0) e[i] /= z;
  return e;
}

/**
 * softmax before its division: `e` = exp(s − m) (0 for removed tokens), their sum `z`, the max `m`, and the
 * smallest score whose numerator is not 0 (`low`).
 */
function softmaxNumerators(s: ArrayLike<number>): { e: Float64Array; z: number; m: number; low: number } {
  let m = -Infinity;
  let removed = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] > m) m = s[i];
    else if (s[i] === -Infinity) removed++;
  }
  const e = new Float64Array(s.length);
  let z = 0;
  let low = Infinity;
  if (m === -Infinity) return { e, z, m, low };
  // The kernel's exponentials are Math.exp's; it pays off unless most tokens are removed (after top-k), which
  // are skipped here. exp(−∞ − m) is 0, a removed token's numerator.
  const kernel = removed < s.length / 2;
  if (kernel) e.set(expShift(s, m));
  for (let i = 0; i < s.length; i++) {
    if (s[i] === -Infinity) continue;
    const x = kernel ? e[i] : (e[i] = Math.exp(s[i] - m));
    z += x;
    if (x > 0 && s[i] < low) low = s[i];
  }
  return { e, z, m, low };
}

/** log softmax. */
export function logSoftmax(s: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < s.length; i++) if (s[i] > m) m = s[i];
  const e = expShift(s, m);
  let z = 0;
  for (let i = 0; i < s.length; i++) z += e[i];
  const lz = m + Math.log(z);
  const out = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i] - lz;
  return out;
}

/** Index of the largest score (first on ties, as torch.argmax). */
export function argmax(s: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < s.length; i++) if (s[i] > s[best]) best = i;
  return best;
}

/** Draws an index from softmax(scores) with `u` uniform in [0, 1). */
export function sampleIndex(scores: ArrayLike<number>, u: number): number {
  const { e, z } = softmaxNumerators(scores);
  return drawIndex(e, z, u);
}

/**
 * {@link sampleIndex} over softmax numerators `e` and their sum `z`: the probabilities are e / z, as softmax divides.
 * With `support` (ascending indices holding every nonzero numerator) only those are walked, to the same result.
 */
function drawIndex(e: Float64Array, z: number, u: number, support?: Int32Array): number {
  let cum = 0;
  let last = 0;
  const n = support ? support.length : e.length;
  for (let j = 0; j < n; j++) {
    const i = support ? support[j] : j;
    const p = e[i] !== 0 ? e[i] / z : e[i];
    if (p <= 0) continue;
    last = i;
    cum += p;
    if (u < cum) return i;
  }
  return last;
}

/**
 * A token drawn from softmax(scores) with `u` uniform in [0, 1), and its log-probability: bitwise
 * `sampleIndex(scores, u)` and `scores[token] - logSumExp(scores)`, with one pass of exponentials instead
 * of two. `numerators`, when given, were computed for a row that agrees with `scores` on every token
 * `scores` keeps ({@link nucleus}'s): when their max is this row's (top-p keeps the most likely token),
 * they are exactly this row's numerators, and the pass of exponentials is saved too.
 */
export function sampleWithLogProb(scores: Float64Array, u: number, numerators?: Numerators): { token: number; logProb: number } {
  let m = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > m) m = scores[i];
  let e: Float64Array;
  let z = 0;
  if (numerators && numerators.max === m && numerators.e.length === scores.length) {
    e = new Float64Array(scores.length);
    for (let i = 0; i < scores.length; i++) if (scores[i] !== -Infinity) z += e[i] = numerators.e[i];
  } else {
    ({ e, z } = softmaxNumerators(scores));
  }
  const token = drawIndex(e, z, u);
  return { token, logProb: scores[token] - (m === -Infinity ? -Infinity : m + Math.log(z)) };
}

/**
 * {@link sampleWithLogProb} of a {@link nucleus}: `kept` and the `numerators` it was cut from. Bitwise the same draw
 * and log-probability, from the kept tokens alone (a nucleus is often a few tokens of the vocabulary).
 */
export function sampleNucleus(kept: Float64Array, u: number, numerators: Numerators): { token: number; logProb: number } {
  const support = supportOf(kept);
  let m = -Infinity;
  for (let j = 0; j < support.length; j++) if (kept[support[j]] > m) m = kept[support[j]];
  if (numerators.max !== m || numerators.e.length !== kept.length) return sampleWithLogProb(kept, u, numerators);
  const e = numerators.e;
  // The sum and the draw in index order over the same tokens (the others add 0 or are skipped).
  let z = 0;
  for (let j = 0; j < support.length; j++) z += e[support[j]];
  const token = drawIndex(e, z, u, support);
  return { token, logProb: kept[token] - (m === -Infinity ? -Infinity : m + Math.log(z)) };
}

/** log Σ exp(s): the normaliser of a log-softmax, without allocating the distribution. */
export function logSumExp(s: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < s.length; i++) if (s[i] > m) m = s[i];
  if (m === -Infinity) return -Infinity;
  const e = expShift(s, m);
  let z = 0;
  for (let i = 0; i < s.length; i++) if (s[i] !== -Infinity) z += e[i];
  return m + Math.log(z);
}
