/**
 * Logits processors over one row of scores (host Float64Array, length vocab), following the Hugging Face
 * implementations. Each returns a new array; -Infinity marks a removed token.
 */
export type LogitsProcessor = (scores: Float64Array, history: readonly number[]) => Float64Array;

/** Divides scores by `t` (HF TemperatureLogitsWarper). */
export function temperature(t: number): LogitsProcessor {
  if (!(t > 0)) throw new Error(`temperature must be > 0, got ${t}`);
  return (s) => (t === 1 ? s : s.map((x) => x / t));
}

/** Keeps the `k` highest scores (ties at the k-th value are kept, as HF's `< topk[-1]` rule does). */
export function topK(k: number): LogitsProcessor {
  if (!Number.isInteger(k) || k < 0) throw new Error(`top-k must be a non-negative integer, got ${k}`);
  return (s) => {
    if (k === 0 || k >= s.length) return s;
    const kth = Float64Array.from(s).sort().reverse()[k - 1];
    return s.map((x) => (x < kth ? -Infinity : x));
  };
}

/**
 * Nucleus filtering (HF TopPLogitsWarper): sort ascending, drop the tokens whose cumulative probability
 * is <= 1 - p, always keep the most likely token.
 */
export function topP(p: number): LogitsProcessor {
  if (!(p > 0 && p <= 1)) throw new Error(`top-p must be in (0, 1], got ${p}`);
  return (s) => {
    if (p >= 1) return s;
    const probs = softmax(s);
    const order = Array.from(s.keys()).sort((a, b) => s[a] - s[b] || a - b);
    const out = Float64Array.from(s);
    let cum = 0;
    for (let r = 0; r < order.length - 1; r++) {
      cum += probs[order[r]];
      if (cum <= 1 - p) out[order[r]] = -Infinity;
    }
    return out;
  };
}

/**
 * HF RepetitionPenaltyLogitsProcessor: every token id in `history` (prompt and generated) has its score
 * multiplied by `penalty` when negative, divided by it otherwise.
 */
export function repetitionPenalty(penalty: number): LogitsProcessor {
  if (!(penalty > 0)) throw new Error(`repetition penalty must be > 0, got ${penalty}`);
  return (s, history) => {
    if (penalty === 1) return s;
    const out = Float64Array.from(s);
    for (const id of new Set(history)) out[id] = s[id] < 0 ? s[id] * penalty : s[id] / penalty;
    return out;
  };
}

/** Runs processors in order. */
export function chain(...ps: LogitsProcessor[]): LogitsProcessor {
  return (s, h) => ps.reduce((acc, p) => p(acc, h), s);
}

/** Numerically stable softmax. */
export function softmax(s: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < s.length; i++) if (s[i] > m) m = s[i];
  const out = new Float64Array(s.length);
  let z = 0;
  for (let i = 0; i < s.length; i++) z += out[i] = Math.exp(s[i] - m);
  for (let i = 0; i < s.length; i++) out[i] /= z;
  return out;
}

/** log softmax. */
export function logSoftmax(s: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < s.length; i++) if (s[i] > m) m = s[i];
  let z = 0;
  for (let i = 0; i < s.length; i++) z += Math.exp(s[i] - m);
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
  const p = softmax(scores);
  let cum = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] <= 0) continue;
    last = i;
    cum += p[i];
    if (u < cum) return i;
  }
  return last;
}

/** log Σ exp(s): the normaliser of a log-softmax, without allocating the distribution. */
export function logSumExp(s: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < s.length; i++) if (s[i] > m) m = s[i];
  if (m === -Infinity) return -Infinity;
  let z = 0;
  for (let i = 0; i < s.length; i++) z += Math.exp(s[i] - m);
  return m + Math.log(z);
}
