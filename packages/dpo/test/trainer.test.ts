import { Rng, folderStore } from '@cope/core';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeWithFixtures, fixture } from '#testing';
import { withFixtureModel } from '#testing/models';
import { createLoraAdapter, disposeAdapter, forward, initBackend, loadLoraAdapter, tf, type CausalLM } from '@cope/model';
import { modelFingerprint, referenceLogProbs, resolveDpoConfig, trainDpo } from '@cope/dpo';
import { tempDir } from '#testing/temp';

beforeAll(async () => {
  await initBackend(process.env.COPE_BACKEND ?? 'wasm');
});

describeWithFixtures('per-user DPO on tiny-llama', ['models/tiny-llama/adapter/adapter_config.json'], () => {
  let model: CausalLM;
  withFixtureModel('tiny-llama', (m) => (model = m));

  test('the disabled-adapter forward equals the bare model bitwise', async () => {
    const adapter = await loadLoraAdapter(model, fixture('models', 'tiny-llama', 'adapter'));
    const ids = [[1, 5, 9, 200, 3]];
    const a = forward(model, ids, { adapters: null }).logits;
    const b = forward(model, ids).logits;
    const c = forward(model, [ids[0], ids[0]], { adapters: [adapter, null] }).logits;
    const bare = Array.from(await b.data());
    expect(Array.from(await a.data())).toEqual(bare);
    expect(((await c.array()) as number[][][])[1].flat()).toEqual(bare);
    tf.dispose([a, b, c]);
    disposeAdapter(adapter);
  });

  test('the reference cache key uses the model\'s load-time fingerprint (no weight read back), else its values', async () => {
    expect(await modelFingerprint(model)).toBe(model.fingerprint!.slice(0, 16));
    const inMemory = { config: model.config, weights: model.weights };
    expect(await modelFingerprint(inMemory)).toMatch(/^[0-9a-f]{16}$/);
    expect(await modelFingerprint(inMemory)).not.toBe(await modelFingerprint(model));
  });

  test('reward margin and accuracy rise on a synthetic preference set; no leaks; reference cached', async () => {
    const rng = new Rng(11);
    // Preference: completions made of tokens 100-109 are chosen, 200-209 rejected.
    const triples = Array.from({ length: 16 }, () => ({
      prompt: [1, ...Array.from({ length: 4 }, () => 10 + rng.int(50))],
      chosen: [...Array.from({ length: 4 }, () => 100 + rng.int(10)), 2],
      rejected: [...Array.from({ length: 4 }, () => 200 + rng.int(10)), 2],
    }));
    const adapter = createLoraAdapter(model, 'user_0', { r: 8, alpha: 8, dropout: 0.05, targetModules: ['q_proj', 'v_proj'] }, new Rng(3));
    const outDir = tempDir('cope-dpo-');
    const config = resolveDpoConfig({ learningRate: 2e-3, beta: 0.1, epochs: 13, batchSize: 4, checkpointEvery: 0 });
    const logs: any[] = [];
    const counts: number[] = [];
    const r = await trainDpo({ model, adapter, triples, config, store: folderStore(outDir), onStep: (l) => { logs.push(l); counts.push(tf.memory().numTensors); } });
    expect(logs.length).toBe(52);
    const avg = (xs: any[], k: string) => xs.reduce((a, l) => a + l[k], 0) / xs.length;
    expect(avg(logs.slice(-8), 'rewards/margins')).toBeGreaterThan(avg(logs.slice(0, 8), 'rewards/margins') + 0.1);
    expect(avg(logs.slice(-8), 'rewards/accuracies')).toBeGreaterThan(0.9);
    expect(new Set(counts.slice(1)).size).toBe(1);
    const line = JSON.parse(readFileSync(path.join(outDir, 'metrics.jsonl'), 'utf8').split('\n')[0]);
    for (const k of ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'rewards/accuracies', 'logps/chosen', 'logps/rejected']) expect(line).toHaveProperty([k]);
    // Read after each step from the loss's tensors: the margin is the two rewards' difference, the accuracy a fraction.
    for (const l of logs) {
      expect(Math.abs(l['rewards/margins'] - (l['rewards/chosen'] - l['rewards/rejected']))).toBeLessThan(1e-5);
      expect(l['rewards/accuracies']).toBeGreaterThanOrEqual(0);
      expect(l['rewards/accuracies']).toBeLessThanOrEqual(1);
    }
    // The reference log-probs were computed under the bare model and cached.
    const cacheFile = path.join(outDir, 'reference_logps.json');
    const mtime = statSync(cacheFile).mtimeMs;
    const again = await referenceLogProbs(model, triples, folderStore(outDir));
    expect(statSync(cacheFile).mtimeMs).toBe(mtime);
    const { logits } = forward(model, [[...triples[0].prompt, ...triples[0].chosen]]);
    const lp = tf.tidy(() => tf.logSoftmax(logits.reshape([-1, model.config.vocabSize])));
    const rows = (await lp.array()) as number[][];
    const seq = [...triples[0].prompt, ...triples[0].chosen];
    let want = 0;
    for (let t = triples[0].prompt.length - 1; t < seq.length - 1; t++) want += rows[t][seq[t + 1]];
    expect(again[0].refChosen).toBeCloseTo(want, 3);
    tf.dispose([logits, lp]);
    disposeAdapter(r.adapter);
  });
});
