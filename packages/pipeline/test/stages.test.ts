import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '#testing/temp';
import { readUsersWithNegatives, readUsersWithSelectedNegatives } from '@cope/data';
import {
  USER_STAGES, USER_STAGE_FNS, assembleOutputs, checkRunConfig, closeTask, evaluateOutputs, memoryResults, openTask, personalizeUser, runTam, type PipelineEvent,
} from '@cope/pipeline';

const root = path.resolve(__dirname, '..', '..', '..');

// The embedded data and model, cut down to one user, one epoch and short generations.
function tinyConfig(runDir: string, extra: Record<string, unknown> = {}) {
  const checked = checkRunConfig({
    dataDir: path.join(root, 'data', 'embedded'), model: path.join(root, 'data', 'models', 'cope-tiny'), runDir,
    maxUsers: 1, workers: 1, backend: process.env.COPE_BACKEND ?? 'wasm', methods: ['TAM', 'CoPe'],
    tam: { epochs: 1 }, oppu: { epochs: 1 }, dpo: { epochs: 1 }, negatives: { n: 2, maxNewTokens: 8 }, decode: { maxNewTokens: 8 }, ...extra,
  });
  if ('issue' in checked) throw new Error(`${checked.issue.path.join('.')}: ${checked.issue.message}`);
  return checked.config;
}

test('each stage is a function of (context, user): run in order they make CoPe\'s files; called again they find their results and do nothing', async () => {
  const config = tinyConfig(tempDir('cope-stages-'));
  const ctx = await openTask(config, 'news_headline', { index: 0, count: 1 });
  const events: PipelineEvent[] = [];
  const reporter = { event: (e: PipelineEvent) => events.push(e) };
  try {
    await runTam(ctx, reporter);
    expect(events.at(-1)).toMatchObject({ stage: 'tam', kind: 'done' });
    for (const stage of USER_STAGES) expect([stage, await USER_STAGE_FNS[stage](ctx, 0, reporter)]).toEqual([stage, true]);
    for (const stage of USER_STAGES) expect([stage, await USER_STAGE_FNS[stage](ctx, 0, reporter)]).toEqual([stage, false]);
    await runTam(ctx, reporter);
    expect(events.at(-1)).toMatchObject({ stage: 'tam', kind: 'skip' });

    expect(await assembleOutputs(ctx)).toBe(true);
    const L = ctx.store.layout;
    // The assembled files are CoPe's: every target user (past max-users as they were), validated by @cope/data's readers.
    const negatives = await readUsersWithNegatives(L.negatives, 'news_headline');
    const selected = await readUsersWithSelectedNegatives(L.selected('max'), 'news_headline');
    expect([negatives.length, selected.length]).toEqual([ctx.users.length, ctx.users.length]);
    for (const item of selected[0].profile as Array<Record<string, any>>) {
      expect(item.pseudo_negative).toHaveLength(2);
      // compute_scores.py's --std max: the candidate of the lowest implicit reward (OPPU minus base score).
      const rewards = item.OPPU_scores.map((s: number, k: number) => s - item.base_scores[k]);
      expect(item.negative_response).toBe(item.pseudo_negative[rewards.indexOf(Math.min(...rewards))]);
    }
    // DPO continues the OPPU adapter with its saved LoRA settings, as PEFT's from_pretrained(is_trainable=True).
    const adapterConfig = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    expect(adapterConfig(L.dpo(0))).toMatchObject({ lora_dropout: adapterConfig(L.oppu(0)).lora_dropout, r: 8, target_modules: ['q_proj', 'v_proj'] });

    const results = await evaluateOutputs(ctx);
    expect(results.map((r) => r.method)).toEqual(['TAM', 'CoPe']);
    const queries = ctx.users[0].query.length;
    const output = JSON.parse(readFileSync(L.output('CoPe'), 'utf8'));
    expect(output.golds).toHaveLength(queries);
    expect(output.results['rouge-L']).toBe(results[1]['rouge-L']);
    // One user holds every evaluated query: the user's means are the overall ones.
    expect(results[1].perUser).toEqual([{ user: 0, 'rouge-1': results[1]['rouge-1'], 'rouge-L': results[1]['rouge-L'], meteor: results[1].meteor }]);

    // The same stages with their results in memory (a browser tab's): the same adapters' bytes and outputs.
    const memory = memoryResults();
    for (const f of ['adapter_config.json', 'adapter_model.safetensors']) await memory.adapterFiles('tam').write(f, readFileSync(path.join(L.tam, f)));
    await personalizeUser({ ...ctx, results: memory, tamModel: undefined }, 0, reporter);
    for (const stage of ['oppu', 'dpo'] as const) {
      const dir = stage === 'oppu' ? L.oppu(0) : L.dpo(0);
      expect(Buffer.from((await memory.adapterFiles(stage, 0).read('adapter_model.safetensors'))!).equals(readFileSync(path.join(dir, 'adapter_model.safetensors')))).toBe(true);
    }
    for (const method of ['TAM', 'CoPe']) expect(await memory.readOutputs(method, 0)).toEqual(JSON.parse(readFileSync(path.join(L.outputParts(method), 'user_0.json'), 'utf8')));
  } finally {
    closeTask(ctx);
  }
}, 300_000);

test('sampling runs of several methods: each run evaluated, and each method\'s mean of its own runs', async () => {
  const config = tinyConfig(tempDir('cope-sampling-'), { decode: { maxNewTokens: 8, sampling: { runs: 2 } } });
  const ctx = await openTask(config, 'news_headline', { index: 0, count: 1 });
  const reporter = { event: () => undefined };
  try {
    await runTam(ctx, reporter);
    for (const stage of USER_STAGES) await USER_STAGE_FNS[stage](ctx, 0, reporter);
    expect(await assembleOutputs(ctx)).toBe(true);
    const results = await evaluateOutputs(ctx);
    expect(results.map((r) => r.method)).toEqual(['TAM-sampling-run_1', 'TAM-sampling-run_2', 'CoPe-sampling-run_1', 'CoPe-sampling-run_2', 'TAM-sampling-mean', 'CoPe-sampling-mean']);
    for (const [mean, a, b] of [[4, 0, 1], [5, 2, 3]]) expect(results[mean]['rouge-L']).toBeCloseTo((results[a]['rouge-L'] + results[b]['rouge-L']) / 2, 12);
  } finally {
    closeTask(ctx);
  }
}, 300_000);
