import { userKey } from '@cope/data';
import { disposeAdapter } from '@cope/model';
import { resolveSftConfig, trainLora } from '@cope/sft';
import { SEEDS, folderStore } from '@cope/core';
import { tamModel, type StageContext } from '../context.js';
import { stepReporter, type Reporter } from '../events.js';
import { cutTo } from './cut.js';

/** OPPU: user `i`'s LoRA on the TAM model, trained on the user's profile (ckpt/OPPU_SFT/<task>/user_<i>). */
export async function runOppu(ctx: StageContext, i: number, r: Reporter): Promise<boolean> {
  const dir = ctx.store.layout.oppu(i);
  if (await ctx.store.isTrained(dir)) return false;
  const user = ctx.users[i];
  const examples = ctx.codec.oppuExamples(user);
  const cut = user.profile.filter((_, k) => examples[k].truncated).map((p) => p.id);
  if (cut.length) {
    const listed = `${cut.slice(0, 10).join(', ')}${cut.length > 10 ? ', …' : ''}`;
    r.event({ stage: 'sft', task: ctx.taskName, user: i, kind: 'info', message: `${userKey(user)}: ${cut.length} of ${examples.length} profile items ${cutTo(ctx)}: ${listed}` });
  }
  const config = resolveSftConfig('oppu', { seed: SEEDS.user(ctx.config.seed, i), ...ctx.config.oppu });
  const res = await trainLora({ model: await tamModel(ctx), examples, config, store: folderStore(dir), name: `user_${i}`, padId: ctx.codec.padId, onStep: stepReporter(r, 'sft', ctx.taskName, i) });
  disposeAdapter(res.adapter);
  return true;
}
