import type { Rng } from '@cope/model';
import { expShiftSum, logAffine, workspace } from './kernels/vector-math.js';
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

/** Argmax (first on ties, as torch.argmax) and its log-softmax; the exponentials run in the vector kernel. */
function argmaxLogSoftmax(logits: ArrayLike<number>): { token: number; logProb: number } {
  const { f64: [exps], f32: [x32] } = workspace(logits.length, 1, 1);
  const x = inKernel(logits, x32, exps);
  let token = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[token]) token = i;
  const m = x[token];
  if (!Number.isFinite(m)) return { token, logProb: NaN };
  return { token, logProb: -Math.log(expShiftSum(x, exps, m)) };
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

let plausibleIndex = new Int32Array(0);

/** Copies values into the float32 kernel array when they are float32, else into the float64 one. */
function inKernel(values: ArrayLike<number>, f32: Float32Array, f64: Float64Array): Float32Array | Float64Array {
  const target = values instanceof Float32Array ? f32 : f64;
  target.set(values);
  return target;
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
function contrastiveGreedy(expertLogits: ArrayLike<number>, amateurLogits: ArrayLike<number>, c: ContrastiveMath): { token: number; logProb: number } {
  const { scores, token } = scoreInto(null, expertLogits, amateurLogits, c);
  const m = scores[token];
  if (!Number.isFinite(m)) return { token, logProb: NaN };
  return { token, logProb: -Math.log(expShiftSum(scores, scores, m)) };
}

/** CoPe contrastive decoding: expert = the user's adapter, amateur = the bare (TAM) model. */
export function contrastiveDecoder(settings: Partial<ContrastiveSettings> = {}): Decoder {
  const s = { ...DEFAULT_CONTRASTIVE, ...settings };
  if (!(s.plausibility >= 0 && s.plausibility <= 1)) throw new Error(`plausibility must be in [0, 1], got ${s.plausibility}`);
  if (s.masked !== 'eps' && s.masked !== 'inf') throw new Error(`masked must be "eps" or "inf", got "${s.masked}"`);
  return {
    name: 'contrastive',
    rows: ['expert', 'amateur'],
    select: (rows, history, rng) => (isPlainArgmax(s) ? contrastiveGreedy(rows[0], rows[1], s) : pick(contrastiveScores(rows[0], rows[1], s), s, history, rng)),
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
