import { Rng } from '@cope/core';
import { describeWithFixtures, fixture } from '#testing';
import { withFixtureModel } from '#testing/models';
import { adapterVariables, createLoraAdapter, disposeAdapter, disposeCache, disposeModel, forward, loadModel, tf, tokenLogProbs, type CausalLM } from '@cope/model';
import { bits, greedyCached, greedyUncached, maxAbsDiff, setupBackend } from './helpers.js';

beforeAll(setupBackend);

describeWithFixtures('forward paths agree', ['models/tiny-qwen2/model.safetensors'], () => {
  let model: CausalLM;
  withFixtureModel('tiny-qwen2', (m) => (model = m));

  test('incremental KV-cache logits equal the full forward', async () => {
    const ids = [3, 17, 99, 4, 250, 8, 61, 12];
    const full = forward(model, [ids]).logits;
    const first = forward(model, [ids.slice(0, 5)], { useCache: true });
    const rest = forward(model, [ids.slice(5)], { cache: first.cache, useCache: true });
    const fullArr = (await full.array()) as number[][][];
    const a = (await first.logits.array()) as number[][][];
    const b = (await rest.logits.array()) as number[][][];
    expect(maxAbsDiff(fullArr[0].flat(), a[0].concat(b[0]).flat())).toBeLessThan(1e-4);
    tf.dispose([full, first.logits, rest.logits]);
    disposeCache(first.cache);
    disposeCache(rest.cache);
  });

  test('cached greedy equals uncached greedy', async () => {
    const prompt = [10, 20, 30];
    expect(await greedyCached(model, prompt, 12)).toEqual(await greedyUncached(model, prompt, 12));
  });

  test('left padding with an attention mask gives the unpadded logits', async () => {
    const short = [7, 8, 9];
    const long = [11, 12, 13, 14, 15];
    const batch = forward(model, [[0, 0, ...short], long], { attentionMask: [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]] }).logits;
    const alone = forward(model, [short]).logits;
    const rows = (await batch.array()) as number[][][];
    const ref = (await alone.array()) as number[][][];
    expect(maxAbsDiff(rows[0].slice(2).flat(), ref[0].flat())).toBeLessThan(1e-4);
    tf.dispose([batch, alone]);
  });

  test('lastOnly gives the last positions of the full logits bit for bit (left padding, per-row adapters on every projection, with and without a cache)', async () => {
    const all = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
    const adapter = createLoraAdapter(model, 'all', { r: 4, alpha: 8, targetModules: [...all] }, new Rng(5));
    const rng = new Rng(6);
    // A fresh adapter's B is zero; random values make every update count.
    for (const v of adapterVariables(adapter)) v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal() * 0.05), v.shape));
    const ids = [[0, 0, 7, 8, 9, 10, 4], [11, 12, 13, 14, 15, 16, 17]];
    const mask = [[0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]];
    const adapters = [adapter, null];
    const lastOf = (t: tf.Tensor3D) => tf.tidy(() => t.slice([0, t.shape[1] - 1, 0], [-1, 1, -1]));
    const compare = (opts: Parameters<typeof forward>[2], input: number[][]) => {
      const full = forward(model, input, opts);
      const last = forward(model, input, { ...opts, lastOnly: true });
      const expected = lastOf(full.logits);
      expect(last.logits.shape).toEqual([2, 1, model.config.vocabSize]);
      expect(bits(last.logits)).toEqual(bits(expected));
      tf.dispose([full.logits, last.logits, expected]);
      for (const r of [full, last]) if (r.cache) disposeCache(r.cache);
    };
    let before = 0;
    // Round 0 also builds the model's packed weights (kept with the model), so leaks are counted from round 1.
    for (let round = 0; round < 2; round++) {
      if (round === 1) before = tf.memory().numTensors;
      compare({ attentionMask: mask, adapters }, ids);
      const first = forward(model, ids.map((r) => r.slice(0, 3)), { attentionMask: mask.map((r) => r.slice(0, 3)), adapters, useCache: true });
      compare({ attentionMask: mask.map((r) => r.slice(3)), adapters, cache: first.cache, useCache: true }, ids.map((r) => r.slice(3)));
      first.logits.dispose();
      disposeCache(first.cache);
    }
    expect(tf.memory().numTensors).toBe(before);
    disposeAdapter(adapter);
  });

  test('a LoRA training step leaks no tensors and leaves frozen weights bitwise unchanged', async () => {
    const adapter = createLoraAdapter(model, 'train', { r: 4, alpha: 8, dropout: 0.05, targetModules: ['q_proj', 'v_proj'] }, new Rng(3));
    const vars = adapterVariables(adapter);
    const kernelBefore = Array.from(await model.weights.layers[0].proj.q_proj.kernel.data());
    const rng = new Rng(4);
    const ids = [[1, 5, 6, 7, 8, 9], [1, 9, 8, 7, 6, 5]];
    let n = tf.memory().numTensors;
    // Step 0 warms the model's lazily built transposed kernels (an owned cache, freed with the model).
    for (let step = 0; step < 4; step++) {
      if (step === 1) n = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => {
        const logits = forward(model, ids, { adapters: adapter, dropoutRng: rng }).logits;
        return tf.neg(tf.mean(tokenLogProbs(logits, ids))) as tf.Scalar;
      }, vars);
      tf.tidy(() => {
        for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.1)));
      });
      value.dispose();
      tf.dispose(Object.values(grads));
    }
    expect(tf.memory().numTensors).toBe(n);
    expect(Array.from(await model.weights.layers[0].proj.q_proj.kernel.data())).toEqual(kernelBefore);
    expect(maxAbsDiff(await adapter.layers[0].q_proj!.b.data(), new Float32Array(4 * 64))).toBeGreaterThan(0);
    disposeAdapter(adapter);
  });
});

test('forward rejects ragged batches and out-of-vocabulary ids clearly', async () => {
  await setupBackend();
  const model = await loadModel(fixture('models', 'tiny-llama'));
  expect(() => forward(model, [[1, 2], [3]])).toThrow(/every row must have 2 ids/);
  expect(() => forward(model, [[1, 999]])).toThrow(/token id 999 outside the vocabulary \[0, 320\)/);
  disposeModel(model);
});
