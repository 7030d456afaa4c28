import { Rng } from '@cope/core';
import { rmSync } from 'node:fs';
import { fixture } from '#testing';
import {
  createLoraAdapter, disposeAdapter, disposeCache, disposeModel, forward, initBackend, loadLoraAdapter, loadModel, opsFor, registerOps,
  tf, type AdapterChoice, type CausalLM, type KvCache, type Ops,
} from '@cope/model';
import { nativeThreads } from '@cope/backend-native';
import { bf16Copy, bits, bytesOf } from './helpers.js';

/**
 * The native backend runs a whole decoding step as one kernel (CopeModelStep), or a decoder layer as one kernel
 * (CopeDecoderStep). Their reference is the same step op by op on the same backend (the ops without `modelStep` and
 * `decoderStep`): logits and the extended cache must be bitwise the same, for each fixture architecture (Qwen2's q/k/v biases), with a PEFT adapter on every row, on some rows
 * (contrastive decoding's expert and amateur rows), with none, and with bf16 weights.
 */
// On one thread and on a team of two (whose threads split every product's packed weight copies).
describe.each([1, 2])('one-kernel decoding step (native backend, %i threads)', (threads) => {
  let native: Ops;
  let bf16Dir: string;

  beforeAll(async () => {
    await initBackend('native', { threads });
    native = opsFor('native');
    bf16Dir = await bf16Copy('tiny-llama');
  });

  afterAll(() => {
    registerOps('native', native);
    rmSync(bf16Dir, { recursive: true, force: true });
  });

  /**
   * Logits and cache of one step after a left-padded two-row prompt: the whole step in one kernel (`model`), each layer
   * in one (`layer`), or op by op (`op`); fused steps and layers counted.
   */
  function step(model: CausalLM, adapters: AdapterChoice, mode: 'model' | 'layer' | 'op'): { logits: tf.Tensor; cache: KvCache; fusedLayers: number; fusedSteps: number } {
    let fusedLayers = 0;
    let fusedSteps = 0;
    registerOps('native', {
      ...native,
      modelStep: mode === 'model' ? (s) => { const r = native.modelStep!(s); if (r) fusedSteps++; return r; } : undefined,
      decoderStep: mode === 'op' ? undefined : (s) => { const r = native.decoderStep!(s); if (r) fusedLayers++; return r; },
    });
    try {
      const V = model.config.vocabSize;
      const prompt = forward(model, [[0, 3, 5, 7, 9], [2, 4, 6, 8, 10].map((t) => t % V)], { attentionMask: [[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]], useCache: true, lastOnly: true, adapters });
      const next = forward(model, [[11 % V], [12 % V]], { cache: prompt.cache, useCache: true, lastOnly: true, adapters });
      prompt.logits.dispose();
      disposeCache(prompt.cache);
      return { logits: next.logits, cache: next.cache!, fusedLayers, fusedSteps };
    } finally {
      registerOps('native', native);
    }
  }

  function expectSameStep(model: CausalLM, adapters: AdapterChoice): void {
    // A first step makes what a model keeps across calls (a tied head's transposed copy); the count starts after it.
    const warm = step(model, adapters, 'model');
    warm.logits.dispose();
    disposeCache(warm.cache);
    const before = tf.memory().numTensors;
    const whole = step(model, adapters, 'model');
    const layer = step(model, adapters, 'layer');
    const b = step(model, adapters, 'op');
    expect([whole.fusedSteps, whole.fusedLayers]).toEqual([1, 0]);
    expect([layer.fusedSteps, layer.fusedLayers]).toEqual([0, model.config.numLayers]);
    expect([b.fusedSteps, b.fusedLayers]).toEqual([0, 0]);
    for (const a of [whole, layer]) {
      expect(bits(a.logits).equals(bits(b.logits))).toBe(true);
      a.cache.layers.forEach((l, i) => {
        expect(l.k.shape).toEqual(b.cache.layers[i].k.shape);
        expect(bits(l.k).equals(bits(b.cache.layers[i].k))).toBe(true);
        expect(bits(l.vT).equals(bits(b.cache.layers[i].vT))).toBe(true);
      });
      expect(a.cache.mask).toEqual(b.cache.mask);
    }
    for (const r of [whole, layer, b]) {
      r.logits.dispose();
      disposeCache(r.cache);
    }
    expect(tf.memory().numTensors).toBe(before);
  }

  test.each(['tiny-llama', 'tiny-qwen2', 'tiny-mistral'])('%s: bitwise the op-by-op step, bare, with an adapter on every row and on one row of two', async (name) => {
    const model = await loadModel(fixture('models', name));
    const adapter = name === 'tiny-llama'
      ? await loadLoraAdapter(model, fixture('models', 'tiny-llama', 'adapter'))
      : createLoraAdapter(model, 'step', { r: 4, alpha: 8, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], dropout: 0 }, new Rng(3));
    // A fresh adapter's B is zero: give it values so the update counts.
    if (name !== 'tiny-llama') for (const layer of adapter.layers) for (const pair of Object.values(layer)) pair!.b.assign(tf.randomNormal(pair!.b.shape, 0, 0.05, 'float32', 7));
    try {
      expectSameStep(model, null);
      expectSameStep(model, adapter);
      expectSameStep(model, [adapter, null]);
      // The fused steps of one or two rows read packed copies (op by op, the weights themselves).
      expect(model.weights.layers.every((l) => !!l.proj.down_proj.packed)).toBe(true);
    } finally {
      disposeAdapter(adapter);
      disposeModel(model);
    }
  });

  test('a row without the adapter is bitwise the bare model\'s row, prompt and step (LoRA adds nothing to it)', async () => {
    const model = await loadModel(fixture('models', 'tiny-llama'));
    const adapter = await loadLoraAdapter(model, fixture('models', 'tiny-llama', 'adapter'));
    try {
      const V = model.config.vocabSize;
      const second = (t: tf.Tensor) => bytesOf((t.dataSync() as Float32Array).subarray(V, 2 * V));
      for (const mode of ['model', 'op'] as const) {
        const mixed = step(model, [adapter, null], mode);
        const bare = step(model, null, mode);
        expect(second(mixed.logits).equals(second(bare.logits))).toBe(true);
        for (const r of [mixed, bare]) {
          r.logits.dispose();
          disposeCache(r.cache);
        }
      }
    } finally {
      disposeAdapter(adapter);
      disposeModel(model);
    }
  });

  test('bf16 weights: bitwise the op-by-op step', async () => {
    const model = await loadModel(bf16Dir, { weights: 'bf16' });
    try {
      expectSameStep(model, null);
    } finally {
      disposeModel(model);
    }
  });

  test('two adapters in one batch run op by op (the kernels take one)', async () => {
    const model = await loadModel(fixture('models', 'tiny-llama'));
    const a = createLoraAdapter(model, 'a', { r: 2, alpha: 2, targetModules: ['q_proj'], dropout: 0 }, new Rng(1));
    const b = createLoraAdapter(model, 'b', { r: 2, alpha: 2, targetModules: ['v_proj'], dropout: 0 }, new Rng(2));
    try {
      const r = step(model, [a, b], 'model');
      expect([r.fusedSteps, r.fusedLayers]).toEqual([0, 0]);
      r.logits.dispose();
      disposeCache(r.cache);
    } finally {
      disposeAdapter(a);
      disposeAdapter(b);
      disposeModel(model);
    }
  });
});

test('initBackend on the running native backend sets its thread count (the steps read it)', async () => {
  await initBackend('native', { threads: 2 });
  expect(nativeThreads()).toBe(2);
  await initBackend('native', { threads: 1 });
  expect(nativeThreads()).toBe(1);
});
