import { SEEDS } from '@cope/core';
import { resolveDpoConfig, trainDpo } from '@cope/dpo';
import { disposeAdapter, readLoraAdapter } from '@cope/model';
import { tamModel, type UserStageContext } from '../user-context.js';
import { stepReporter, type Reporter } from '../events.js';

/**
 * DPO: user `i`'s OPPU adapter trained further on (profile input, the user's output, the selected negative), with the
 * TAM model as the reference (ckpt/OPPU_SFT+DPO/<task>/user_<i>). The adapter keeps its saved LoRA dropout, as
 * CoPe's PeftModel.from_pretrained(is_trainable=True) does.
 */
export async function runDpo(ctx: UserStageContext, i: number, r: Reporter): Promise<boolean> {
  const { results } = ctx;
  if (await results.isTrained('dpo', i)) return false;
  const scored = await results.readPart({ kind: 'selected', selection: ctx.config.score.selection }, i, ctx.taskName);
  const triples = scored.profile
    .filter((item) => typeof item.negative_response === 'string')
    .map((item) => ctx.codec.dpoTriple(item as Record<string, unknown>, String(item.negative_response)));
  const model = await tamModel(ctx);
  const adapter = await readLoraAdapter(results.adapterFiles('oppu', i), model, `user_${i}`);
  const config = resolveDpoConfig({ seed: SEEDS.user(ctx.config.seed, i), ...ctx.config.dpo });
  const res = await trainDpo({ model, adapter, triples, config, store: results.adapterFiles('dpo', i), onStep: stepReporter(r, 'dpo', ctx.taskName, i) });
  disposeAdapter(res.adapter);
  if (res.adapter !== adapter) disposeAdapter(adapter);
  return true;
}
