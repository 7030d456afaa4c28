import type { Rng } from '@cope/model';
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

/** Plain decoding from one model: greedy or sampling, per `settings`. */
export function plainDecoder(settings: Partial<SamplingSettings> = {}): Decoder {
  const s = { ...DEFAULT_SAMPLING, ...settings };
  return {
    name: s.doSample ? 'sample' : 'greedy',
    rows: ['expert'],
    select: (rows, history, rng) => pick(Float64Array.from(rows[0]), s, history, rng),
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

/**
 * CoPe's contrastive scores for one step: the expert's plausible set, renormalised, minus λ times the
 * amateur's log-probabilities.
 */
export function contrastiveScores(expertLogits: ArrayLike<number>, amateurLogits: ArrayLike<number>, c: Pick<ContrastiveSettings, 'contrastiveAlpha' | 'plausibility' | 'masked'>): Float64Array {
  // Two exponentials and one logarithm per token (this runs once per generated token): the expert's
  // probabilities go in `out`, the amateur's only as their log.
  const V = expertLogits.length;
  let maxE = -Infinity;
  let maxA = -Infinity;
  for (let i = 0; i < V; i++) {
    if (expertLogits[i] > maxE) maxE = expertLogits[i];
    if (amateurLogits[i] > maxA) maxA = amateurLogits[i];
  }
  const out = new Float64Array(V);
  const pA = new Float64Array(V);
  let zE = 0;
  let zA = 0;
  for (let i = 0; i < V; i++) {
    zE += out[i] = Math.exp(expertLogits[i] - maxE);
    zA += pA[i] = Math.exp(amateurLogits[i] - maxA);
  }
  // pE = out / zE; its maximum is 1 / zE.
  const threshold = c.plausibility / zE;
  let kept = 0;
  for (let i = 0; i < V; i++) {
    out[i] /= zE;
    if (out[i] >= threshold) kept += out[i];
  }
  const lam = c.contrastiveAlpha;
  const logEps = Math.log(EPS);
  for (let i = 0; i < V; i++) {
    const keep = out[i] >= threshold;
    if (!keep && c.masked === 'inf') {
      out[i] = -Infinity;
      continue;
    }
    const logQ = keep ? Math.log(out[i] / (kept + EPS) + EPS) : logEps;
    out[i] = lam === 0 ? logQ : logQ - lam * Math.log(pA[i] / zA + EPS);
  }
  return out;
}

/** CoPe contrastive decoding: expert = the user's adapter, amateur = the bare (TAM) model. */
export function contrastiveDecoder(settings: Partial<ContrastiveSettings> = {}): Decoder {
  const s = { ...DEFAULT_CONTRASTIVE, ...settings };
  if (!(s.plausibility >= 0 && s.plausibility <= 1)) throw new Error(`plausibility must be in [0, 1], got ${s.plausibility}`);
  if (s.masked !== 'eps' && s.masked !== 'inf') throw new Error(`masked must be "eps" or "inf", got "${s.masked}"`);
  return {
    name: 'contrastive',
    rows: ['expert', 'amateur'],
    select: (rows, history, rng) => pick(contrastiveScores(rows[0], rows[1], s), s, history, rng),
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
