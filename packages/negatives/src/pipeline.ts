import { Rng, SEEDS } from '@cope/core';
import type { TaskCodec, UserRecord } from '@cope/data';
import { generate, plainDecoder } from '@cope/decoding';
import { type CausalLM, type LoraAdapter } from '@cope/model';
import { scoreCandidates, type ScoringMode } from './score.js';
import { selectNegative, type SelectionMode } from './select.js';

/** What every stage needs to turn text into ids for one task. */
export interface TaskContext {
  model: CausalLM;
  /** The task's tokenization (its tokenizer, chat template and task). */
  codec: TaskCodec;
  /** Ids that end a sampled candidate; the tokenizer's EOS when omitted. */
  eosTokenIds?: number[];
}

/** Sampling settings of CoPe's scripts/generate_pseudo_negatives.py. */
export interface SamplingOptions {
  /** `--response_num 3`. */
  n: number;
  /** `--temperature 1.0`. */
  temperature: number;
  /** `top_p=0.95`. */
  topP: number;
  /** 100 / 600 by task when omitted. */
  maxNewTokens?: number;
  /** 1 for short tasks; `--repetition_penalty` (1.0) for long ones. */
  repetitionPenalty: number;
  /** Prompts per generate call (vLLM batches of 16). */
  batchSize: number;
  seed: number;
}

export const DEFAULT_SAMPLING_OPTIONS: SamplingOptions = { n: 3, temperature: 1, topP: 0.95, repetitionPenalty: 1, batchSize: 16, seed: 0 };

/**
 * Samples `n` candidates per profile item of one user from the TAM model with the task's test prompt;
 * returns the user with `pseudo_negative: string[]` on every item (texts stripped). Seeded per user, so
 * a user's candidates do not depend on which worker or shard ran it.
 */
export async function sampleUserNegatives(ctx: TaskContext, user: UserRecord, userIndex: number, opts: Partial<SamplingOptions> = {}): Promise<UserRecord> {
  const o = { ...DEFAULT_SAMPLING_OPTIONS, ...opts };
  const rng = new Rng(SEEDS.negatives(o.seed, userIndex));
  const decoder = plainDecoder({ doSample: true, temperature: o.temperature, topP: o.topP, topK: 0, repetitionPenalty: ctx.codec.task.long ? o.repetitionPenalty : 1 });
  const prompts = user.profile.flatMap((item) => {
    const ids = ctx.codec.samplingPrompt(item as Record<string, string>);
    return Array.from({ length: o.n }, () => ids);
  });
  const texts: string[] = [];
  for (let i = 0; i < prompts.length; i += o.batchSize) {
    const out = await generate(ctx.model, prompts.slice(i, i + o.batchSize), {
      maxNewTokens: o.maxNewTokens ?? ctx.codec.task.maxNewTokens,
      decoder,
      rng,
      eosTokenIds: ctx.eosTokenIds ?? (ctx.codec.tokenizer.eosId != null ? [ctx.codec.tokenizer.eosId] : undefined),
      padTokenId: ctx.codec.padId,
    });
    texts.push(...out.map((r) => ctx.codec.tokenizer.decode(r.ids, { skipSpecialTokens: true }).trim()));
  }
  return { ...user, profile: user.profile.map((item, k) => ({ ...item, pseudo_negative: texts.slice(k * o.n, (k + 1) * o.n) })) };
}

export interface ScoredUser {
  user: UserRecord;
  /** Ids of profile items that had no candidates (they get no negative_response). */
  itemsWithoutCandidates: string[];
}

/**
 * Scores every candidate of one user (user adapter vs TAM, one batch) and selects the negative:
 * each item gains `OPPU_scores`, `base_scores`, `score_differences`, `final_score_difference`,
 * `negative_response`, as `compute_scores.py` writes them.
 */
export async function scoreUserNegatives(ctx: TaskContext, adapter: LoraAdapter, user: UserRecord, opts: { mode?: ScoringMode; selection?: SelectionMode; batchSize?: number } = {}): Promise<ScoredUser> {
  const mode = opts.mode ?? 'completion';
  const missing: string[] = [];
  // Every candidate of the user in one scoring pass (chunked into batches), then split back per item.
  const inputs = user.profile.flatMap((item) => ((item.pseudo_negative as string[] | undefined) ?? []).map((cand) => ctx.codec.scoringPair(item as Record<string, string>, cand, mode)));
  const all = await scoreCandidates(ctx.model, adapter, inputs, { mode, eosTokenId: ctx.codec.tokenizer.eosId ?? undefined, batchSize: opts.batchSize });
  let offset = 0;
  const profile = user.profile.map((item) => {
    const cands = (item.pseudo_negative as string[] | undefined) ?? [];
    if (cands.length === 0) {
      missing.push(String(item.id));
      return item;
    }
    const s = { userScores: all.userScores.slice(offset, offset + cands.length), baseScores: all.baseScores.slice(offset, offset + cands.length) };
    offset += cands.length;
    const sel = selectNegative(s, opts.selection ?? 'max');
    return {
      ...item,
      OPPU_scores: s.userScores,
      base_scores: s.baseScores,
      score_differences: sel.differences,
      final_score_difference: sel.difference,
      negative_response: cands[sel.index],
    };
  });
  return { user: { ...user, profile }, itemsWithoutCandidates: missing };
}
