import { Rng } from '@cope/core';
import { rmSync } from 'node:fs';
import { readFixtureJson } from '#testing';
import { createLoraAdapter, disposeAdapter, disposeModel, forward, initBackend, loadModel, mergeLoraAdapter, modelTensors, tf, trainableModel, weightsToHost, type CausalLM } from '@cope/model';
import { bf16Copy, bits, greedyCached } from './helpers.js';

/**
 * Weights kept in bf16 (`loadModel(dir, { weights: 'bf16' })`, the native backend): the same model written as a
 * BF16 file and loaded widened is the reference. Widening is exact, and the native products widen each value as
 * they read it in the same order, so logits and greedy tokens are bitwise the same, with half the weight memory.
 */
describe("weights kept in bf16 (native backend)", () => {
  let dir: string;
  let widened: CausalLM;
  let kept: CausalLM;

  beforeAll(async () => {
    await initBackend('native');
    dir = await bf16Copy('tiny-llama');
    widened = await loadModel(dir);
    kept = await loadModel(dir, { weights: 'bf16' });
  });

  afterAll(() => {
    disposeModel(widened);
    disposeModel(kept);
    rmSync(dir, { recursive: true, force: true });
  });

  test('logits and greedy tokens bitwise the widened model\'s; projections held as bf16 pairs (half the bytes)', async () => {
    const e = readFixtureJson('models', 'tiny-llama', 'expected.json');
    const ids = [e.greedy.prompt, e.greedy.prompt.map((t: number) => (t + 3) % kept.config.vocabSize)];
    // What the models keep across calls (packed weight copies for decoding steps) is made before the count starts.
    for (const m of [kept, widened]) await greedyCached(m, e.greedy.prompt, 2);
    const n = tf.memory().numTensors;
    const [a, b] = [forward(widened, ids).logits, forward(kept, ids).logits];
    expect(bits(b).equals(bits(a))).toBe(true);
    tf.dispose([a, b]);
    expect(await greedyCached(kept, e.greedy.prompt, 8)).toEqual(await greedyCached(widened, e.greedy.prompt, 8));
    expect(tf.memory().numTensors).toBe(n);
    const q = kept.weights.layers[0].proj.q_proj;
    expect([q.bf16, q.kernel.dtype]).toEqual([true, 'int32']);
    const bytes = (m: CausalLM) => modelTensors(m).reduce((s, t) => s + t.size * 4, 0);
    expect(bytes(kept)).toBeLessThan(0.6 * bytes(widened));
    expect(kept.fingerprint).toBe(widened.fingerprint);
  });

  test('training, merging and saving refuse bf16 weights, naming what to do', async () => {
    const adapter = createLoraAdapter(kept, 'u', { r: 2, alpha: 4, targetModules: ['q_proj'], dropout: 0 }, new Rng(1));
    expect(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(forward(kept, [[1, 2]]).logits, x)))(tf.scalar(1))).toThrow(/bf16 has no gradient path/);
    expect(() => mergeLoraAdapter(kept, adapter)).toThrow(/merging an adapter needs float32 weights.*weights: 'float32'/);
    expect(() => trainableModel(kept)).toThrow(/full-parameter training needs float32 weights/);
    await expect(weightsToHost(kept)).rejects.toThrow(/saving needs float32 weights/);
    disposeAdapter(adapter);
  });

  test('only the native backend keeps bf16 weights', async () => {
    await initBackend('cpu');
    await expect(loadModel(dir, { weights: 'bf16' })).rejects.toThrow(/bf16' run on the native backend only \(active backend: cpu\)/);
    await initBackend('native');
  });
});
