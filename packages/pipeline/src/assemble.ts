import { TASKS, type UserRecord } from '@cope/data';
import type { TaskData } from './context.js';
import { runOutputs } from './stages/index.js';

/**
 * Joins per-user parts into CoPe's files once every user of the run has them: the pseudo-negative file, the
 * selected-negative file, and one predictions file per method. Returns false while some user's outputs are missing
 * (other shards, or stages not run).
 */
export async function assembleOutputs(ctx: TaskData): Promise<boolean> {
  const { store, allUsers } = ctx;
  const L = store.layout;
  const n = allUsers.length;
  const outputs = runOutputs(ctx.config);
  if (!(await store.hasParts(L.outputParts(outputs[0].name), allUsers))) return false;
  // Users past max-users keep their records as they were, as CoPe's files hold every user.
  const withRest = (parts: UserRecord[]) => parts.concat(ctx.users.slice(n));
  if (await store.hasParts(L.negativesParts, allUsers)) await store.writeJson(L.negatives, withRest(await store.assemble<UserRecord>(L.negativesParts, n)));
  const selection = ctx.config.score.selection;
  if (await store.hasParts(L.selectedParts(selection), allUsers)) {
    await store.writeJson(L.selected(selection), withRest(await store.assemble<UserRecord>(L.selectedParts(selection), n)));
  }
  for (const { name } of outputs) {
    const parts = await store.assemble<Array<{ id: string; output: string }>>(L.outputParts(name), n);
    await store.writeJson(L.output(name), { task: TASKS[ctx.taskName].lampId, golds: parts.flat(), model: name });
  }
  return true;
}
