import { userKey } from '@cope/data';
import { disposeAdapter } from '@cope/model';
import { resolveSftConfig, trainLora } from '@cope/sft';
import { SEEDS } from '@cope/core';
import { tamModel, type UserStageContext } from '../user-context.js';
import { stepReporter, type Reporter } from '../events.js';
import { cutTo } from './cut.js';

/** OPPU: user `i`'s LoRA on the TAM model, trained on the user's profile (ckpt/OPPU_SFT/<task>/user_<i>). */
export async function runOppu(ctx: UserStageContext, i: number, r: Reporter): Promise<boolean> {
  if (await ctx.results.isTrained('oppu', i)) return false;
  const user = ctx.users[i];
  const examples = ctx.codec.oppuExamples(user);
  const cut = user.profile.filter((_, k) => examples[k].truncated).map((p) => p.id);
  if (cut.length) {
    const listed = `${cut.slice(0, 10).join(', ')}${cut.length > 10 ? ', …' : ''}`;
    r.event({ stage: 'sft', task: ctx.taskName, user: i, kind: 'info', message: `${userKey(user)}: ${cut.length} of ${examples.length} profile items ${cutTo(ctx)}: ${listed}` });
  }
  const config = resolveSftConfig('oppu', { seed: SEEDS.user(ctx.config.seed, i), ...ctx.config.oppu });
  const res = await trainLora({ model: await tamModel(ctx), examples, config, store: ctx.results.adapterFiles('oppu', i), name: `user_${i}`, padId: ctx.codec.padId, onStep: stepReporter(r, 'sft', ctx.taskName, i) });
  disposeAdapter(res.adapter);
  return true;
}
