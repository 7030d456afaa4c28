import { z } from 'zod';
import { parseProblem } from '@cope/core';

/** The decoding defaults of a model folder's `generation_config.json` that generation reads. */
export interface GenerationConfig {
  /** Ids that end a generation (transformers' `generate` stops at any of them). */
  eosTokenIds?: number[];
  padTokenId?: number;
}

const tokenIds = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]);
const schema = z.object({ eos_token_id: tokenIds.nullish(), pad_token_id: z.number().int().nonnegative().nullish() }).passthrough();

/**
 * `generation_config.json`'s parsed content. transformers' `generate` takes its EOS ids from this file, not from
 * config.json: instruct models list their end-of-turn token here (Qwen2.5-Instruct's `<|im_end|>`,
 * Llama-3.1-Instruct's `<|eot_id|>`). Errors name `file` and the field.
 */
export function parseGenerationConfig(raw: unknown, file = 'generation_config.json'): GenerationConfig {
  const r = schema.safeParse(raw);
  if (!r.success) throw new Error(parseProblem(file, r.error, ' (expected a token id or a list of them)'));
  const eos = r.data.eos_token_id;
  const out: GenerationConfig = {};
  if (eos != null) out.eosTokenIds = Array.isArray(eos) ? eos : [eos];
  if (r.data.pad_token_id != null) out.padTokenId = r.data.pad_token_id;
  return out;
}

/**
 * The ids that end a generation: the generation config's EOS ids (as transformers' `generate`), else config.json's
 * (`configEosIds`), plus the tokenizer's EOS when it has one and it is not listed (vLLM, which samples CoPe's
 * pseudo-negatives, stops there too; CoPe's contrastive loop stops there only).
 */
export function stopTokenIdsOf(generation: GenerationConfig | null, configEosIds: readonly number[], tokenizerEosId?: number | null): number[] {
  const ids = [...(generation?.eosTokenIds ?? configEosIds)];
  if (tokenizerEosId != null && !ids.includes(tokenizerEosId)) ids.push(tokenizerEosId);
  return ids;
}
