import { Rng, SEEDS } from '@cope/core';
import { TASKS, outputText } from '@cope/data';
import { PromptCache, contrastiveDecoder, generate, plainDecoder, type Decoder } from '@cope/decoding';
import { disposeAdapter, readLoraAdapter, type LoraAdapter } from '@cope/model';
import type { MethodSettings } from '../method-settings.js';
import { tamModel, type UserStageContext } from '../user-context.js';
import type { Reporter } from '../events.js';
import { METHODS, decodeOutputs, type DecodeOutput } from '../methods.js';

/** The predictions files the run's config asks for, in method order. */
export const runOutputs = (config: MethodSettings): DecodeOutput[] => decodeOutputs(config.methods, config.decode.sampling);

/**
 * Decoding: user `i`'s queries with every method of the run (a part per predictions file). The methods decode the
 * same query batches and all run the TAM model bare (the TAM baseline) or as the amateur: it reads each batch's
 * prompt once.
 */
export async function runDecode(ctx: UserStageContext, i: number, r: Reporter): Promise<boolean> {
  const missing = [];
  for (const output of runOutputs(ctx.config)) if (!(await ctx.results.hasPart({ kind: 'output', name: output.name }, i))) missing.push(output);
  if (!missing.length) return false;
  const promptCache = new PromptCache();
  try {
    for (const output of missing) {
      await ctx.results.writePart({ kind: 'output', name: output.name }, i, await decodeQueries(ctx, output, i, ctx.users[i].query, { promptCache }));
      r.event({ stage: 'decode', task: ctx.taskName, user: i, kind: 'info', method: output.name });
    }
  } finally {
    promptCache.dispose();
  }
  return true;
}

/** The method's decoder: greedy or contrastive, or a sampling run's draws with the same processors. */
function decoderOf(ctx: UserStageContext, output: DecodeOutput): Decoder {
  const d = ctx.config.decode;
  // CoPe applies the repetition penalty to the long-form tasks only.
  const repetitionPenalty = TASKS[ctx.taskName].long ? d.repetitionPenalty : 1;
  const sampling = output.run !== undefined && d.sampling
    ? { doSample: true, temperature: d.sampling.temperature, topK: d.sampling.topK, topP: d.sampling.topP }
    : { doSample: false };
  return METHODS[output.method].decoder === 'contrastive'
    ? contrastiveDecoder({ contrastiveAlpha: d.contrastiveAlpha, plausibility: d.plausibility, masked: d.masked, repetitionPenalty, ...sampling })
    : plainDecoder({ repetitionPenalty, ...sampling });
}

/** The method's adapter for user `i` (null: the TAM model alone). */
async function adapterOf(ctx: UserStageContext, output: DecodeOutput, i: number): Promise<LoraAdapter | null> {
  const stage = METHODS[output.method].adapter;
  if (stage === null) return null;
  return readLoraAdapter(ctx.results.adapterFiles(stage === 'sft' ? 'oppu' : 'dpo', i), await tamModel(ctx), `user_${i}`);
}

/** Options of {@link decodeQueries}. */
export interface DecodeQueriesOptions {
  /** Prompts the TAM model has read already (shared by the methods of a user). */
  promptCache?: PromptCache;
  /** Each new token of query `q` (an index into the queries given), as it is chosen. */
  onToken?: (q: number, token: number) => void;
}

/**
 * Outputs of `queries` (user `i`'s, or a query typed in a page) with one method, in batches of `decode.batchSize`; a
 * sampling run is seeded by the run seed, the user and the run number (so workers and shards agree).
 */
export async function decodeQueries(ctx: UserStageContext, output: DecodeOutput, i: number, queries: Array<{ id: string | number; input: string }>, opts: DecodeQueriesOptions = {}): Promise<Array<{ id: string; output: string }>> {
  const spec = TASKS[ctx.taskName];
  const d = ctx.config.decode;
  const model = await tamModel(ctx);
  const decoder = decoderOf(ctx, output);
  const contrastive = METHODS[output.method].decoder === 'contrastive';
  const rng = new Rng(SEEDS.decoding(ctx.config.seed, i, output.run));
  const outputs: Array<{ id: string; output: string }> = [];
  const adapter = await adapterOf(ctx, output, i);
  try {
    for (let k = 0; k < queries.length; k += d.batchSize) {
      const batch = queries.slice(k, k + d.batchSize);
      const prompts = batch.map((q) => ctx.codec.queryIds(q.input));
      const onToken = opts.onToken;
      const res = await generate(model, prompts, {
        maxNewTokens: d.maxNewTokens ?? spec.maxNewTokens,
        decoder,
        adapter,
        eosTokenIds: ctx.eosTokenIds,
        padTokenId: ctx.codec.padId,
        rng,
        promptCache: opts.promptCache,
        onToken: onToken && ((row, token) => onToken(k + row, token)),
      });
      res.forEach((g, j) => outputs.push({ id: String(batch[j].id), output: outputText(ctx.tokenizer, spec, prompts[j], g.ids, contrastive, d.outputText) }));
    }
  } finally {
    if (adapter) disposeAdapter(adapter);
  }
  return outputs;
}
