import { sampleUserNegatives } from '@cope/negatives';
import { negativesContext, type StageContext } from '../context.js';

/** Pseudo-negatives: the TAM model samples candidates for each of user `i`'s profile items (a part of data/<task>/parts). */
export async function runNegatives(ctx: StageContext, i: number): Promise<boolean> {
  const parts = ctx.store.layout.negativesParts;
  if (await ctx.store.hasPart(parts, i)) return false;
  const { n, temperature, topP, maxNewTokens, repetitionPenalty } = ctx.config.negatives;
  const user = await sampleUserNegatives(await negativesContext(ctx), ctx.users[i], i, { n, temperature, topP, maxNewTokens, repetitionPenalty, seed: ctx.config.seed });
  await ctx.store.writePart(parts, i, user);
  return true;
}
