import { readUserPart } from '@cope/data';
import { disposeAdapter, loadLoraAdapter } from '@cope/model';
import { scoreUserNegatives } from '@cope/negatives';
import { negativesContext, type StageContext } from '../context.js';
import type { Reporter } from '../events.js';

/** Scoring: each of user `i`'s candidates gets its implicit reward (OPPU vs TAM) and the selected negative is kept. */
export async function runScore(ctx: StageContext, i: number, r: Reporter): Promise<boolean> {
  const { store } = ctx;
  const { mode, selection } = ctx.config.score;
  const parts = store.layout.selectedParts(selection);
  if (await store.hasPart(parts, i)) return false;
  const withNegatives = await readUserPart(store.partFile(store.layout.negativesParts, i), ctx.taskName, 'negatives');
  const taskContext = await negativesContext(ctx);
  const adapter = await loadLoraAdapter(taskContext.model, store.layout.oppu(i), `user_${i}`);
  try {
    const scored = await scoreUserNegatives(taskContext, adapter, withNegatives, { mode, selection });
    if (scored.itemsWithoutCandidates.length) {
      r.event({ stage: 'score', task: ctx.taskName, user: i, kind: 'info', message: `items without candidates (no negative_response): ${scored.itemsWithoutCandidates.join(', ')}` });
    }
    await store.writePart(parts, i, scored.user);
  } finally {
    disposeAdapter(adapter);
  }
  return true;
}
