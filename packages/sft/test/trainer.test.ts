import { folderStore } from '@cope/core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeWithFixtures, fixture } from '#testing';
import { withFixtureModel } from '#testing/models';
import { adapterVariables, disposeAdapter, disposeModel, forward, initBackend, loadModel, tf, type CausalLM } from '@cope/model';
import { resolveSftConfig, trainFull, trainLora } from '@cope/sft';
import { tempDir } from '#testing/temp';

beforeAll(async () => {
  await initBackend(process.env.COPE_BACKEND ?? 'wasm');
});

const tmp = () => tempDir('cope-sft-');
const examples = [
  { ids: [1, 10, 11, 12, 50, 51, 2], labelMask: [0, 0, 0, 0, 1, 1, 1], promptLength: 4, truncated: false },
  { ids: [1, 20, 21, 60, 61, 62, 2], labelMask: [0, 0, 0, 1, 1, 1, 1], promptLength: 3, truncated: false },
  { ids: [1, 30, 70, 71, 2], labelMask: [0, 0, 1, 1, 1], promptLength: 2, truncated: false },
  { ids: [1, 40, 41, 42, 43, 80, 2], labelMask: [0, 0, 0, 0, 0, 1, 1], promptLength: 5, truncated: false },
];

describeWithFixtures('LoRA SFT trainer on tiny-llama', ['models/tiny-llama/model.safetensors'], () => {
  let model: CausalLM;
  withFixtureModel('tiny-llama', (m) => (model = m));

  test('overfits four examples (loss < 0.05); frozen base weights bitwise unchanged; no leaks over 50+ steps', async () => {
    const before = Array.from(await model.weights.layers[1].proj.v_proj.kernel.data());
    const config = resolveSftConfig(null, { learningRate: 1e-2, epochs: 60, batchSize: 4, warmupRatio: 0, checkpointEvery: 0, lora: { r: 16, alpha: 32, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] } });
    const losses: number[] = [];
    const counts: number[] = [];
    const r = await trainLora({ model, examples, config, store: folderStore(tmp()), onStep: (l) => { losses.push(l.loss); counts.push(tf.memory().numTensors); } });
    expect(losses.length).toBe(60);
    expect(losses[losses.length - 1]).toBeLessThan(0.05);
    expect(losses[0]).toBeGreaterThan(3);
    // After the first step (lazily built transposed kernels), the tensor count stays flat.
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(Array.from(await model.weights.layers[1].proj.v_proj.kernel.data())).toEqual(before);
    disposeAdapter(r.adapter);
  });

  test('resuming after an interruption gives bitwise the same weights; metrics.jsonl per step', async () => {
    const config = resolveSftConfig('oppu', { epochs: 3, batchSize: 2, checkpointEvery: 2, learningRate: 5e-3 });
    const full = await trainLora({ model, examples, config, store: folderStore(tmp()) });
    const dir = tmp();
    const part = await trainLora({ model, examples, config, store: folderStore(dir), stopAfterSteps: 3 });
    expect(part.finished).toBe(false);
    disposeAdapter(part.adapter);
    const resumed = await trainLora({ model, examples, config, store: folderStore(dir) });
    expect(resumed.resumedFromStep).toBe(2);
    expect(resumed.steps).toBe(6);
    const a = adapterVariables(full.adapter);
    const b = adapterVariables(resumed.adapter);
    for (let i = 0; i < a.length; i++) expect(Array.from(await b[i].data())).toEqual(Array.from(await a[i].data()));
    const lines = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lines[0]).toEqual(expect.objectContaining({ truncatedExamples: 0, loss: expect.any(Number), lr: expect.any(Number), gradNorm: expect.any(Number), tokensPerSecond: expect.any(Number) }));
    // A finished folder is loaded, not retrained.
    const again = await trainLora({ model, examples, config, store: folderStore(dir) });
    expect(again.resumedFromStep).toBe(6);
    [full, resumed, again].forEach((r) => disposeAdapter(r.adapter));
  });

  test('clear errors for an empty dataset and bad config', async () => {
    await expect(trainLora({ model, examples: [], config: resolveSftConfig('oppu'), store: folderStore('/tmp/x') })).rejects.toThrow(/no training examples/);
    expect(() => resolveSftConfig('tam', { batchSize: 0 })).toThrow(/sft config: batchSize: /);
    expect(resolveSftConfig('tam').lora).toEqual({ r: 16, alpha: 16, dropout: 0.05, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] });
    expect(() => resolveSftConfig('tam', { learningrate: 0.5 })).toThrow(/sft config: \(root\): Unrecognized key: "learningrate"/);
  });

  test('a step that fails names its examples', async () => {
    const examples = [{ ids: [1, 2, 3], labelMask: [0, 1, 1], promptLength: 1 }, { ids: [1, 2, 1e9], labelMask: [0, 1, 1], promptLength: 1 }];
    const config = resolveSftConfig('oppu', { batchSize: 1, epochs: 1, checkpointEvery: 0 });
    await expect(trainLora({ model, examples, config, store: folderStore(tempDir('cope-sft-fail-')) })).rejects.toThrow(/^training step [12] on examples 1 \(3 tokens\): forward: token id 1000000000 outside the vocabulary \[0, 320\)$/);
  });
});

describeWithFixtures('full-parameter SFT', ['models/tiny-llama/model.safetensors'], () => {
  test('trains every weight, saves a loadable HF folder, resumes bitwise, leaves the input model untouched', async () => {
    const base = await loadModel(fixture('models', 'tiny-llama'));
    const before = Array.from(await base.weights.embed!.data());
    const config = resolveSftConfig(null, { learningRate: 3e-3, epochs: 4, batchSize: 2, warmupRatio: 0, checkpointEvery: 2 });
    const losses: number[] = [];
    const full = await trainFull({ model: base, examples, config, store: folderStore(tmp()), onStep: (l) => losses.push(l.loss) });
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(Array.from(await base.weights.embed!.data())).toEqual(before);
    // Embeddings moved too (their gradient is the wasm one-hot path).
    expect(Array.from(await full.model.weights.embed!.data())).not.toEqual(before);
    const dir = tmp();
    const part = await trainFull({ model: base, examples, config, store: folderStore(dir), stopAfterSteps: 3 });
    disposeModel(part.model);
    const resumed = await trainFull({ model: base, examples, config, store: folderStore(dir) });
    expect(resumed.resumedFromStep).toBe(2);
    expect(Array.from(await resumed.model.weights.layers[1].proj.down_proj.kernel.data())).toEqual(Array.from(await full.model.weights.layers[1].proj.down_proj.kernel.data()));
    const saved = await loadModel(dir);
    const a = forward(saved, [[1, 10, 11]]).logits;
    const b = forward(full.model, [[1, 10, 11]]).logits;
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    tf.dispose([a, b]);
    [base, full.model, resumed.model, saved].forEach(disposeModel);
  });
});
