import { sampleUserNegatives } from '@cope/negatives';
import { negativesContext, type UserStageContext } from '../user-context.js';

/** Pseudo-negatives: the TAM model samples candidates for each of user `i`'s profile items (a part of data/<task>/parts). */
export async function runNegatives(ctx: UserStageContext, i: number): Promise<boolean> {
  const part = { kind: 'negatives' } as const;
  if (await ctx.results.hasPart(part, i)) return false;
  const { n, temperature, topP, maxNewTokens, repetitionPenalty } = ctx.config.negatives;
  const user = await sampleUserNegatives(await negativesContext(ctx), ctx.users[i], i, { n, temperature, topP, maxNewTokens, repetitionPenalty, seed: ctx.config.seed });
  await ctx.results.writePart(part, i, user);
  return true;
}
