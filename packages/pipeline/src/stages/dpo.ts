import { SEEDS, folderStore } from '@cope/core';
import { readUserPart } from '@cope/data';
import { resolveDpoConfig, trainDpo } from '@cope/dpo';
import { disposeAdapter, loadLoraAdapter } from '@cope/model';
import { tamModel, type StageContext } from '../context.js';
import { stepReporter, type Reporter } from '../events.js';

/**
 * DPO: user `i`'s OPPU adapter trained further on (profile input, the user's output, the selected negative), with the
 * TAM model as the reference (ckpt/OPPU_SFT+DPO/<task>/user_<i>). The adapter keeps its saved LoRA dropout, as
 * CoPe's PeftModel.from_pretrained(is_trainable=True) does.
 */
export async function runDpo(ctx: StageContext, i: number, r: Reporter): Promise<boolean> {
  const { store } = ctx;
  const dir = store.layout.dpo(i);
  if (await store.isTrained(dir)) return false;
  const scored = await readUserPart(store.partFile(store.layout.selectedParts(ctx.config.score.selection), i), ctx.taskName, 'selected');
  const triples = scored.profile
    .filter((item) => typeof item.negative_response === 'string')
    .map((item) => ctx.codec.dpoTriple(item as Record<string, unknown>, String(item.negative_response)));
  const model = await tamModel(ctx);
  const adapter = await loadLoraAdapter(model, store.layout.oppu(i), `user_${i}`);
  const config = resolveDpoConfig({ seed: SEEDS.user(ctx.config.seed, i), ...ctx.config.dpo });
  const res = await trainDpo({ model, adapter, triples, config, store: folderStore(dir), onStep: stepReporter(r, 'dpo', ctx.taskName, i) });
  disposeAdapter(res.adapter);
  if (res.adapter !== adapter) disposeAdapter(adapter);
  return true;
}
