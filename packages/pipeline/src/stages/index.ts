import { userKey } from '@cope/data';
import type { StageContext } from '../context.js';
import type { Reporter } from '../events.js';
import type { UserStage } from '../stage-names.js';
import { runDecode } from './decode.js';
import { runDpo } from './dpo.js';
import { runNegatives } from './negatives.js';
import { runOppu } from './oppu.js';
import { runScore } from './score.js';

export { runTam } from './tam.js';
export { runOutputs } from './decode.js';

/** A per-user stage: does user `i`'s work unless its results exist; returns false when there was nothing to do. */
export type UserStageFn = (ctx: StageContext, i: number, r: Reporter) => Promise<boolean>;

/** The per-user stages of CoPe, by name (their order is USER_STAGES'). */
export const USER_STAGE_FNS: Record<UserStage, UserStageFn> = {
  sft: runOppu,
  negatives: runNegatives,
  score: runScore,
  dpo: runDpo,
  decode: runDecode,
};

/** Runs one per-user stage for user `i` (skipping finished work); a failure names the task, stage and user. */
export async function runUserStage(ctx: StageContext, stage: UserStage, i: number, r: Reporter): Promise<void> {
  let worked: boolean;
  try {
    worked = await USER_STAGE_FNS[stage](ctx, i, r);
  } catch (e) {
    throw new Error(`${ctx.taskName} ${stage}, user_${i} (${userKey(ctx.users[i])}): ${(e as Error).message}`, { cause: e });
  }
  r.event({ stage, task: ctx.taskName, user: i, kind: worked ? 'done' : 'skip' });
}
