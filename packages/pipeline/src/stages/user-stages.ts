import { userKey } from '@cope/data';
import type { UserStageContext } from '../user-context.js';
import type { Reporter } from '../events.js';
import { USER_STAGES, type UserStage } from '../stage-names.js';
import { runDecode } from './decode.js';
import { runDpo } from './dpo.js';
import { runNegatives } from './negatives.js';
import { runOppu } from './oppu.js';
import { runScore } from './score.js';

export { runOutputs, decodeQueries, type DecodeQueriesOptions } from './decode.js';

/** A per-user stage: does user `i`'s work unless its results exist; returns false when there was nothing to do. */
export type UserStageFn = (ctx: UserStageContext, i: number, r: Reporter) => Promise<boolean>;

/** The per-user stages of CoPe, by name (their order is USER_STAGES'). */
export const USER_STAGE_FNS: Record<UserStage, UserStageFn> = {
  sft: runOppu,
  negatives: runNegatives,
  score: runScore,
  dpo: runDpo,
  decode: runDecode,
};

/** Runs one per-user stage for user `i` (skipping finished work); a failure names the task, stage and user. */
export async function runUserStage(ctx: UserStageContext, stage: UserStage, i: number, r: Reporter): Promise<void> {
  let worked: boolean;
  try {
    worked = await USER_STAGE_FNS[stage](ctx, i, r);
  } catch (e) {
    throw new Error(`${ctx.taskName} ${stage}, user_${i} (${userKey(ctx.users[i])}): ${(e as Error).message}`, { cause: e });
  }
  r.event({ stage, task: ctx.taskName, user: i, kind: worked ? 'done' : 'skip' });
}

/**
 * CoPe for one user, every per-user stage in order (OPPU, pseudo-negatives, scoring, DPO, decoding), skipping what
 * `ctx.results` holds already: what a run does for each user once the task's TAM is trained.
 */
export async function personalizeUser(ctx: UserStageContext, i: number, r: Reporter): Promise<void> {
  for (const stage of USER_STAGES) await runUserStage(ctx, stage, i, r);
}
