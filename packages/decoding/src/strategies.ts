import type { Rng } from '@cope/model';
import { expShiftSum, logAffine, vectorArrays } from './kernels/vector-math.js';
import { argmax, chain, logSumExp, repetitionPenalty, sampleIndex, temperature, topK, topP, type LogitsProcessor } from './processors.js';

/**
 * A decoding strategy. It says how many model rows one sequence needs per step (1, or 2 for expert +
 * amateur) and picks the next token from those rows' logits.
 */
export interface Decoder {
  readonly name: string;
  /** Rows per sequence: `expert` rows use the user's adapter, `amateur` rows the bare model. */
  readonly rows: ReadonlyArray<'expert' | 'amateur'>;
  /** The next token and its log-probability under the strategy's final distribution. */
  select(rowLogits: Float32Array[], history: readonly number[], rng: Rng): { token: number; logProb: number };
}

export interface SamplingSettings {
  /** Sample from the distribution (true) or take the argmax (false). */
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
}

/** Hugging Face `generate` defaults: greedy, temperature 1, top-k 50, top-p 1, no repetition penalty. */
export const DEFAULT_SAMPLING: SamplingSettings = { doSample: false, temperature: 1, topK: 50, topP: 1, repetitionPenalty: 1 };

function pick(scores: Float64Array, s: SamplingSettings, history: readonly number[], rng: Rng): { token: number; logProb: number } {
  let out = repetitionPenalty(s.repetitionPenalty)(scores, history);
  if (s.doSample) out = chain(temperature(s.temperature), topK(s.topK), topP(s.topP))(out, history);
  const token = s.doSample ? sampleIndex(out, rng.next()) : argmax(out);
  return { token, logProb: out[token] - logSumExp(out) };
}

/** True when a step is the plain argmax of the scores (no processor changes them). */
function isPlainArgmax(s: SamplingSettings): boolean {
  return !s.doSample && s.repetitionPenalty === 1;
}

/**
 * Argmax (first on ties, as torch.argmax) and its log-softmax, the exponentials in the vector kernel.
 * `inKernelMemory`: the scores are a {@link vectorArrays} array that may be overwritten; otherwise they
 * are copied there first.
 */
function argmaxLogSoftmax(scores: ArrayLike<number>, inKernelMemory = false): { token: number; logProb: number } {
  const buf = inKernelMemory ? (scores as Float64Array) : vectorArrays(scores.length, 1)[0];
  let token = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!inKernelMemory) buf[i] = scores[i];
    if (scores[i] > scores[token]) token = i;
  }
  const m = scores[token];
  if (!Number.isFinite(m)) return { token, logProb: NaN };
  return { token, logProb: -Math.log(expShiftSum(buf, m)) };
}

/** Plain decoding from one model: greedy or sampling, per `settings`. */
export function plainDecoder(settings: Partial<SamplingSettings> = {}): Decoder {
  const s = { ...DEFAULT_SAMPLING, ...settings };
  return {
    name: s.doSample ? 'sample' : 'greedy',
    rows: ['expert'],
    select: (rows, history, rng) => (isPlainArgmax(s) ? argmaxLogSoftmax(rows[0]) : pick(Float64Array.from(rows[0]), s, history, rng)),
  };
}

export interface ContrastiveSettings extends SamplingSettings {
  /** λ: weight of the amateur's log-probability (CoPe `--contrastive_alpha`, default 0.1). */
  contrastiveAlpha: number;
  /** Plausibility threshold relative to the expert's top probability (CoPe's hard-coded 0.1). */
  plausibility: number;
  /** Masked tokens score log(1e-8) as published (`eps`) or are removed (`inf`). */
  masked: 'eps' | 'inf';
}

/** CoPe defaults (cope-reference.md §8): λ 0.1, plausibility 0.1, ε-masking, greedy, no repetition penalty. */
export const DEFAULT_CONTRASTIVE: ContrastiveSettings = { ...DEFAULT_SAMPLING, contrastiveAlpha: 0.1, plausibility: 0.1, masked: 'eps' };

const EPS = 1e-8;
const LOG_EPS = Math.log(EPS);

type ContrastiveMath = Pick<ContrastiveSettings, 'contrastiveAlpha' | 'plausibility' | 'masked'>;

/**
 * CoPe's contrastive scores into `out` (or, when null, into kernel memory, ready for an in-place
 * exponential pass). The vocabulary-wide exponentials and logarithms (two softmaxes, the amateur's
 * log-probabilities, the plausible tokens' renormalised log-probabilities) run in the vector kernels.
 */
function scoreInto(out: Float64Array | null, expertLogits: ArrayLike<number>, amateurLogits: ArrayLike<number>, c: ContrastiveMath): Float64Array {
  const V = expertLogits.length;
  const [pE, logA, logQ, scratch] = vectorArrays(V, 4);
  const scores = out ?? scratch;
  let maxE = -Infinity;
  let maxA = -Infinity;
  for (let i = 0; i < V; i++) {
    const e = (pE[i] = expertLogits[i]);
    const a = (logA[i] = amateurLogits[i]);
    if (e > maxE) maxE = e;
    if (a > maxA) maxA = a;
  }
  const zE = expShiftSum(pE, maxE);
  const zA = expShiftSum(logA, maxA);
  logAffine(logA, 1 / zA, EPS); // log(p_amateur + ε)
  // The expert's probability is pE / zE; its maximum is 1 / zE.
  const threshold = c.plausibility / zE;
  const lam = c.contrastiveAlpha;
  const inf = c.masked === 'inf';
  const plausible: number[] = [];
  let kept = 0;
  for (let i = 0; i < V; i++) {
    const p = pE[i] / zE;
    if (p >= threshold) {
      kept += p;
      plausible.push(i);
    } else {
      scores[i] = inf ? -Infinity : lam === 0 ? LOG_EPS : LOG_EPS - lam * logA[i];
    }
  }
  // log(q + ε), q = the expert's probability renormalised over the plausible set (an untrained model
  // can have thousands of plausible tokens, so this is a vector pass too).
  const n = plausible.length;
  for (let j = 0; j < n; j++) logQ[j] = pE[plausible[j]];
  logAffine(logQ.subarray(0, n), 1 / (zE * (kept + EPS)), EPS);
  for (let j = 0; j < n; j++) {
    const i = plausible[j];
    scores[i] = lam === 0 ? logQ[j] : logQ[j] - lam * logA[i];
  }
  return scores;
}

/**
 * CoPe's contrastive scores for one step: the expert's plausible set, renormalised, minus λ times the
 * amateur's log-probabilities.
 */
export function contrastiveScores(expertLogits: ArrayLike<number>, amateurLogits: ArrayLike<number>, c: ContrastiveMath): Float64Array {
  return scoreInto(new Float64Array(expertLogits.length), expertLogits, amateurLogits, c);
}

/** CoPe contrastive decoding: expert = the user's adapter, amateur = the bare (TAM) model. */
export function contrastiveDecoder(settings: Partial<ContrastiveSettings> = {}): Decoder {
  const s = { ...DEFAULT_CONTRASTIVE, ...settings };
  if (!(s.plausibility >= 0 && s.plausibility <= 1)) throw new Error(`plausibility must be in [0, 1], got ${s.plausibility}`);
  if (s.masked !== 'eps' && s.masked !== 'inf') throw new Error(`masked must be "eps" or "inf", got "${s.masked}"`);
  return {
    name: 'contrastive',
    rows: ['expert', 'amateur'],
    select: (rows, history, rng) => (isPlainArgmax(s)
      ? argmaxLogSoftmax(scoreInto(null, rows[0], rows[1], s), true)
      : pick(contrastiveScores(rows[0], rows[1], s), s, history, rng)),
  };
}

/** Factories by name, so strategies can be swapped (and new ones registered) by name. */
const registry = new Map<string, (opts: Record<string, unknown>) => Decoder>([
  ['greedy', (o) => plainDecoder({ ...(o as Partial<SamplingSettings>), doSample: false })],
  ['sample', (o) => plainDecoder({ ...(o as Partial<SamplingSettings>), doSample: true })],
  ['contrastive', (o) => contrastiveDecoder(o as Partial<ContrastiveSettings>)],
]);

/** Registers a decoding strategy under a name. */
export function registerDecoder(name: string, factory: (opts: Record<string, unknown>) => Decoder): void {
  registry.set(name, factory);
}

/** Builds a registered strategy; unknown names get an error listing the known ones. */
export function createDecoder(name: string, opts: Record<string, unknown> = {}): Decoder {
  const f = registry.get(name);
  if (!f) throw new Error(`Unknown decoding strategy "${name}": expected one of ${[...registry.keys()].join(', ')}`);
  return f(opts);
}

export type { LogitsProcessor };
