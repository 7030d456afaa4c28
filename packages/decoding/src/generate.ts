import { Rng } from '@cope/core';
import type { CausalLM, LoraAdapter } from '@cope/model';
import type { PromptCache } from './prompt-cache.js';
import { GenerationRows } from './generation-rows.js';
import { plainDecoder, type Decoder } from './strategies.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** Generation stops for a sequence at any of these ids (the id is kept in `ids`). */
  eosTokenIds?: number[];
  /** Strategy; greedy by default. */
  decoder?: Decoder;
  /** The user's adapter, used by `expert` rows; null runs the bare model there. */
  adapter?: LoraAdapter | null;
  /**
   * A separate amateur model for contrastive decoding (same tokenizer). Without it, amateur rows run
   * on `model` with no adapter, batched with the expert rows in one forward.
   */
  amateurModel?: CausalLM;
  /** Seeded randomness for sampling. */
  rng?: Rng;
  /** Padding id for left-padding prompts of different lengths. */
  padTokenId?: number;
  /** Called once per generated token (streaming). */
  onToken?: (sequence: number, token: number, step: number) => void;
  /** Turns ids into text for the result (e.g. a tokenizer's decode). */
  decode?: (ids: number[]) => string;
  /**
   * Prompt batches already read by a model without an adapter (the bare / TAM model, contrastive decoding's
   * amateur): reused instead of read again, and recorded when read here. Results are bitwise the same.
   */
  promptCache?: PromptCache;
}

export interface GenerationResult {
  /** New tokens only, including the stopping EOS if one was produced. */
  ids: number[];
  /** Log-probability of each new token under the strategy's final distribution. */
  logProbs: number[];
  text?: string;
  finishReason: 'eos' | 'length';
}

/**
 * Batched autoregressive generation with a KV cache. Each prompt becomes `decoder.rows.length` rows of
 * one left-padded batch (contrastive: expert and amateur side by side, with per-row adapters); each step
 * runs one forward over the last tokens and reads all rows' logits from the device once.
 */
export async function generate(model: CausalLM, prompts: number[][], opts: GenerateOptions): Promise<GenerationResult[]> {
  const decoder = opts.decoder ?? plainDecoder();
  const rng = opts.rng ?? new Rng(0);
  const eos = new Set(opts.eosTokenIds ?? model.config.eosTokenIds);
  if (prompts.length === 0) return [];
  if (prompts.some((p) => p.length === 0)) throw new Error('generate: every prompt needs at least one token');
  const rows = new GenerationRows(model, prompts, decoder, { ...opts, padTokenId: opts.padTokenId ?? model.config.padTokenId ?? 0 });
  const results: GenerationResult[] = prompts.map(() => ({ ids: [], logProbs: [], finishReason: 'length' }));
  const histories = prompts.map((p) => p.slice());
  let active = prompts.map((_, i) => i);
  try {
    for (let step = 0; step < opts.maxNewTokens && active.length > 0; step++) {
      const stepRows = await rows.step(step, active, histories);
      const finished = active.map((i, k) => {
        const { token, logProb } = decoder.select(stepRows[k], histories[i], rng);
        results[i].ids.push(token);
        results[i].logProbs.push(logProb);
        histories[i].push(token);
        opts.onToken?.(i, token, step);
        if (eos.has(token)) results[i].finishReason = 'eos';
        return eos.has(token);
      });
      if (finished.some(Boolean)) {
        rows.drop(active, finished);
        active = active.filter((_, k) => !finished[k]);
      }
    }
  } finally {
    rows.dispose();
  }
  if (opts.decode) for (const r of results) r.text = opts.decode(r.ids);
  return results;
}
