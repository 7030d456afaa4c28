import { readOtherUsers } from '@cope/data';
import { disposeAdapter } from '@cope/model';
import { resolveSftConfig, trainLora } from '@cope/sft';
import type { StageContext } from '../context.js';
import { stepReporter, type Reporter } from '../events.js';
import { cutTo } from './cut.js';

/** TAM: one LoRA over the non-target users' queries (raw LaMP inputs), saved to ckpt/TAM/<task>. */
export async function runTam(ctx: StageContext, r: Reporter): Promise<void> {
  const task = ctx.taskName;
  if (await ctx.store.isTrained('tam')) return r.event({ stage: 'tam', task, kind: 'skip' });
  const others = await readOtherUsers(`${ctx.config.dataDir}/${task}`, task);
  const examples = ctx.codec.tamExamples(others);
  const config = resolveSftConfig('tam', { seed: ctx.config.seed, ...ctx.config.tam });
  const cut = examples.filter((e) => e.truncated).length;
  if (cut) r.event({ stage: 'tam', task, kind: 'info', message: `${cut} of ${examples.length} training examples ${cutTo(ctx)}` });
  r.event({ stage: 'tam', task, kind: 'start', examples: examples.length });
  const res = await trainLora({ model: ctx.base, examples, config, store: ctx.store.adapterFiles('tam'), name: 'TAM', padId: ctx.codec.padId, onStep: stepReporter(r, 'tam', task) });
  disposeAdapter(res.adapter);
  r.event({ stage: 'tam', task, kind: 'done' });
}
