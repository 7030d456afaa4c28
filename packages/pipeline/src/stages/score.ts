import { disposeAdapter, readLoraAdapter } from '@cope/model';
import { scoreUserNegatives } from '@cope/negatives';
import { negativesContext, type UserStageContext } from '../user-context.js';
import type { Reporter } from '../events.js';

/** Scoring: each of user `i`'s candidates gets its implicit reward (OPPU vs TAM) and the selected negative is kept. */
export async function runScore(ctx: UserStageContext, i: number, r: Reporter): Promise<boolean> {
  const { results } = ctx;
  const { mode, selection } = ctx.config.score;
  const part = { kind: 'selected', selection } as const;
  if (await results.hasPart(part, i)) return false;
  const withNegatives = await results.readPart({ kind: 'negatives' }, i, ctx.taskName);
  const taskContext = await negativesContext(ctx);
  const adapter = await readLoraAdapter(results.adapterFiles('oppu', i), taskContext.model, `user_${i}`);
  try {
    const scored = await scoreUserNegatives(taskContext, adapter, withNegatives, { mode, selection });
    if (scored.itemsWithoutCandidates.length) {
      r.event({ stage: 'score', task: ctx.taskName, user: i, kind: 'info', message: `items without candidates (no negative_response): ${scored.itemsWithoutCandidates.join(', ')}` });
    }
    await results.writePart(part, i, scored.user);
  } finally {
    disposeAdapter(adapter);
  }
  return true;
}
