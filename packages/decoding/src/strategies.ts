import { parseProblem, type Rng } from '@cope/core';
import { z } from 'zod';
import { argmaxLogSoftmax, contrastiveGreedy, contrastiveScores, type ContrastiveMath } from './scores.js';
import { argmax, chain, logSumExp, nucleus, repetitionPenalty, sampleNucleus, sampleWithLogProb, temperature, topK, type LogitsProcessor } from './processors.js';

/**
 * A decoding strategy. It says how many model rows one sequence needs per step (1, or 2 for expert +
 * amateur) and picks the next token from those rows' logits.
 */
export interface Decoder {
  readonly name: string;
  /** Rows per sequence: `expert` rows use the user's adapter, `amateur` rows the bare model. */
  readonly rows: ReadonlyArray<'expert' | 'amateur'>;
  /**
   * The next token and its log-probability under the strategy's final distribution. `rowLogits` are read-only:
   * at the first step, rows of one prompt repeated within a batch share memory, and rows may be a PromptCache's.
   */
  select(rowLogits: Float32Array[], history: readonly number[], rng: Rng): { token: number; logProb: number };
}

/**
 * Sampling settings: the defaults of Hugging Face `generate` (greedy, temperature 1, top-k 50, top-p 1, no
 * repetition penalty) and the ranges its warpers and processors accept (they raise on the others). The one home
 * of these defaults: CLI flags and the run config derive theirs from it.
 */
export const samplingSettingsSchema = z.object({
  doSample: z.boolean().default(false).describe('sample from the distribution (true) or take the argmax (false)'),
  temperature: z.number().positive().default(1).describe('sampling temperature'),
  topK: z.number().int().nonnegative().default(50).describe('top-k (0 = off)'),
  topP: z.number().positive().max(1).default(1).describe('top-p (nucleus)'),
  repetitionPenalty: z.number().positive().default(1).describe('Hugging Face repetition penalty (1 = off)'),
});
export type SamplingSettings = z.infer<typeof samplingSettingsSchema>;

/**
 * Hugging Face's order: repetition penalty, then (sampling) temperature, top-k, top-p and a draw; the
 * log-probability is the token's under the final distribution. Top-p's softmax numerators serve the draw
 * and the normaliser (bitwise what the processors and `sampleIndex` / `logSumExp` give, tested).
 */
function pick(scores: Float64Array, s: SamplingSettings, history: readonly number[], rng: Rng): { token: number; logProb: number } {
  let out = repetitionPenalty(s.repetitionPenalty)(scores, history);
  if (!s.doSample) {
    const token = argmax(out);
    return { token, logProb: out[token] - logSumExp(out) };
  }
  out = chain(temperature(s.temperature), topK(s.topK))(out, history);
  if (s.topP >= 1) return sampleWithLogProb(out, rng.next());
  const { kept, numerators } = nucleus(out, s.topP);
  return sampleNucleus(kept, rng.next(), numerators);
}

/**
 * Contrastive decoding's settings: the sampling settings applied to the contrastive scores, plus CoPe's defaults
 * (CoPe's scripts/OPPU_sft+dpo.py: λ `--contrastive_alpha 0.1`, the hard-coded plausibility 0.1, ε-masking as published).
 */
export const contrastiveSettingsSchema = samplingSettingsSchema.extend({
  contrastiveAlpha: z.number().min(0).default(0.1).describe('λ, the weight of the amateur (CoPe\'s --contrastive_alpha)'),
  plausibility: z.number().min(0).max(1).default(0.1).describe('plausibility threshold: tokens below this share of the expert\'s best are masked (CoPe\'s)'),
  masked: z.enum(['eps', 'inf']).default('eps').describe('masked tokens\' score: eps (as published) or inf'),
});

/** `settings` checked against `schema`; the error names the decoder, the setting and what it expects. */
function validated<T>(decoder: string, schema: z.ZodType<T>, settings: unknown): T {
  const r = schema.safeParse(settings);
  if (r.success) return r.data;
  const got = (settings as Record<string, unknown>)[String(r.error.issues[0].path[0])];
  throw new Error(parseProblem(`${decoder} decoding`, r.error, ` (got ${typeof got === 'string' ? JSON.stringify(got) : String(got)})`));
}

/** True when a step is the plain argmax of the scores (no processor changes them). */
function isPlainArgmax(s: SamplingSettings): boolean {
  return !s.doSample && s.repetitionPenalty === 1;
}

/** Plain decoding from one model: greedy or sampling, per `settings`. */
export function plainDecoder(settings: Partial<SamplingSettings> = {}): Decoder {
  const s = validated(settings.doSample ? 'sample' : 'greedy', samplingSettingsSchema, settings);
  return {
    name: s.doSample ? 'sample' : 'greedy',
    rows: ['expert'],
    select: (rows, history, rng) => (isPlainArgmax(s) ? argmaxLogSoftmax(rows[0]) : pick(new Float64Array(rows[0]), s, history, rng)),
  };
}

/** Contrastive scoring plus the sampling settings applied to its scores. */
export type ContrastiveSettings = z.infer<typeof contrastiveSettingsSchema> & ContrastiveMath;

/** CoPe contrastive decoding: expert = the user's adapter, amateur = the bare (TAM) model. */
export function contrastiveDecoder(settings: Partial<ContrastiveSettings> = {}): Decoder {
  const s = validated('contrastive', contrastiveSettingsSchema, settings);
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
