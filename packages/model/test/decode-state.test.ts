import { Rng } from '@cope/core';
import { rmSync } from 'node:fs';
import { fixture } from '#testing';
import {
  createLoraAdapter, disposeAdapter, disposeCache, disposeModel, forward, initBackend, loadLoraAdapter, loadModel, openDecodeState, opsFor,
  parseModelConfig, registerOps, selectCacheRows, tf, weightsFromHost, type AdapterChoice, type CausalLM, type HostTensor, type KvCache, type LoraAdapter, type Ops,
} from '@cope/model';
import { bf16Copy, bits, bytesOf } from './helpers.js';

/**
 * A decoding state's steps against forward passes over the cache (the reference the parity and decoding fixtures
 * test): on the native backend a step is one call on a cache kept natively (appended in place, grown past the room
 * made at first), and its logits must be bitwise forward's, for each fixture architecture, with an adapter on one row
 * of two (contrastive decoding's layout), bare, with bf16 weights, after rows leave the batch; and without a session
 * (other backends) the state runs forward itself.
 */
// On one thread and on a team of two (whose threads split every product's packed weight copies).
describe.each([1, 2])('decoding state (native backend, %i threads)', (threads) => {
  let native: Ops;
  let sessions = 0;
  /** The native ops, counting the decoding sessions they open. */
  const counting = (): Ops => ({ ...native, openDecodeSession: (s) => { const r = native.openDecodeSession!(s); if (r) sessions++; return r; } });
  let bf16Dir: string;

  beforeAll(async () => {
    await initBackend('native', { threads });
    native = opsFor('native');
    registerOps('native', counting());
    bf16Dir = await bf16Copy('tiny-llama');
  });

  afterAll(() => {
    registerOps('native', native);
    rmSync(bf16Dir, { recursive: true, force: true });
  });

  /** A left-padded two-row prompt's cache. */
  function prompt(model: CausalLM, adapters: AdapterChoice): KvCache {
    const V = model.config.vocabSize;
    const r = forward(model, [[0, 3, 5, 7, 9], [2, 4, 6, 8, 10].map((t) => t % V)], { attentionMask: [[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]], useCache: true, lastOnly: true, adapters });
    r.logits.dispose();
    return r.cache!;
  }

  /** Six steps of the state and of forward from the same prompt; row 0 leaves after the third. Returns whether a session ran. */
  async function expectSameSteps(model: CausalLM, adapters: Array<LoraAdapter | null>): Promise<boolean> {
    const V = model.config.vocabSize;
    // What a model keeps across calls (a tied head's transposed copy, packed weight copies) is made before the count starts.
    for (const choice of [adapters, null]) {
      const warm = prompt(model, choice);
      const warmStep = forward(model, [[1], [2]], { cache: warm, useCache: true, lastOnly: true, adapters: choice });
      disposeCache(warm);
      disposeCache(warmStep.cache);
      warmStep.logits.dispose();
    }
    const before = tf.memory().numTensors;
    const counted = sessions;
    const state = openDecodeState(model, prompt(model, adapters), { adapters, ownsCache: true });
    let cache: KvCache | undefined = prompt(model, adapters);
    let rowAdapters = adapters;
    let rows = [0, 1];
    for (let s = 0; s < 6; s++) {
      const ids = rows.map((r) => (11 + 5 * s + r) % V);
      const expected = forward(model, ids.map((id) => [id]), { cache, useCache: true, lastOnly: true, adapters: rowAdapters });
      disposeCache(cache);
      cache = expected.cache;
      const logits = await state.step(ids);
      expect(bytesOf(logits).equals(bits(expected.logits))).toBe(true);
      expected.logits.dispose();
      if (s === 2) {
        state.keepRows([1]);
        const kept = selectCacheRows(cache!, [1]);
        disposeCache(cache);
        cache = kept;
        rowAdapters = [adapters[1]];
        rows = [1];
        expect(state.rows).toBe(1);
      }
    }
    state.dispose();
    disposeCache(cache);
    expect(tf.memory().numTensors).toBe(before);
    return sessions > counted;
  }

  test.each(['tiny-llama', 'tiny-qwen2', 'tiny-mistral'])('%s: bitwise forward, bare and with an adapter on one row of two, rows leaving', async (name) => {
    const model = await loadModel(fixture('models', name));
    const adapter = name === 'tiny-llama'
      ? await loadLoraAdapter(model, fixture('models', 'tiny-llama', 'adapter'))
      : createLoraAdapter(model, 'step', { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj', 'down_proj'], dropout: 0 }, new Rng(3));
    if (name !== 'tiny-llama') for (const layer of adapter.layers) for (const pair of Object.values(layer)) pair!.b.assign(tf.randomNormal(pair!.b.shape, 0, 0.05, 'float32', 7));
    try {
      expect(await expectSameSteps(model, [null, null])).toBe(true);
      expect(await expectSameSteps(model, [adapter, null])).toBe(true);
      // The adapter on the row that leaves: the state goes on with the bare row.
      expect(await expectSameSteps(model, [null, adapter])).toBe(true);
    } finally {
      disposeAdapter(adapter);
      disposeModel(model);
    }
  });

  test('a model wide enough for a team (q/k/v biases, an adapter on one row of two): bitwise forward, and the same logits on one thread and on two', async () => {
    const model = wideModel(new Rng(21));
    const adapter = createLoraAdapter(model, 'wide', { r: 8, alpha: 16, targetModules: ['q_proj', 'k_proj', 'v_proj'], dropout: 0 }, new Rng(22));
    for (const layer of adapter.layers) for (const pair of Object.values(layer)) pair!.b.assign(tf.randomNormal(pair!.b.shape, 0, 0.05, 'float32', 23));
    const steps = async (t: number) => {
      await initBackend('native', { threads: t });
      const state = openDecodeState(model, prompt(model, [adapter, null]), { adapters: [adapter, null], ownsCache: true });
      const out: Buffer[] = [];
      for (let s = 0; s < 4; s++) out.push(Buffer.from(bytesOf(await state.step([(7 * s + 1) % 300, (5 * s + 2) % 300]))));
      state.dispose();
      return Buffer.concat(out);
    };
    try {
      expect(await expectSameSteps(model, [adapter, null])).toBe(true);
      expect((await steps(1)).equals(await steps(2))).toBe(true);
    } finally {
      await initBackend('native', { threads });
      disposeAdapter(adapter);
      disposeModel(model);
    }
  });

  test('bf16 weights: bitwise forward', async () => {
    const model = await loadModel(bf16Dir, { weights: 'bf16' });
    try {
      expect(await expectSameSteps(model, [null, null])).toBe(true);
    } finally {
      disposeModel(model);
    }
  });

  test('without a backend session (two adapters, or another backend) each step is a forward pass', async () => {
    const model = await loadModel(fixture('models', 'tiny-llama'));
    const a = createLoraAdapter(model, 'a', { r: 2, alpha: 2, targetModules: ['q_proj'], dropout: 0 }, new Rng(1));
    const b = createLoraAdapter(model, 'b', { r: 2, alpha: 2, targetModules: ['v_proj'], dropout: 0 }, new Rng(2));
    try {
      expect(await expectSameSteps(model, [a, b])).toBe(false);
      registerOps('native', { ...native, openDecodeSession: undefined });
      expect(await expectSameSteps(model, [a, null])).toBe(false);
    } finally {
      registerOps('native', counting());
      disposeAdapter(a);
      disposeAdapter(b);
      disposeModel(model);
    }
  });

  test('a borrowed cache stays the caller\'s; bad ids and rows are refused naming what was expected', async () => {
    const model = await loadModel(fixture('models', 'tiny-llama'));
    try {
      const cache = prompt(model, null);
      const state = openDecodeState(model, cache, { maxSteps: 4 });
      await expect(state.step([1])).rejects.toThrow(/1 ids for 2 rows/);
      await expect(state.step([1, model.config.vocabSize])).rejects.toThrow(/token id \d+ outside the vocabulary/);
      expect(() => state.keepRows([1, 0])).toThrow(/increasing row indices below 2/);
      expect((await state.step([1, 2])).length).toBe(2 * model.config.vocabSize);
      state.dispose();
      expect(cache.layers[0].k.isDisposed).toBe(false);
      disposeCache(cache);
    } finally {
      disposeModel(model);
    }
  });
});

/** A random Qwen2 (q/k/v biases) whose decoding steps are large enough to run on the native backend's team. */
function wideModel(rng: Rng): CausalLM {
  const H = 256, kv = 64, F = 512, V = 300;
  const config = parseModelConfig({ model_type: 'qwen2', vocab_size: V, hidden_size: H, num_hidden_layers: 2, num_attention_heads: 8, num_key_value_heads: 2, intermediate_size: F, tie_word_embeddings: false });
  const host = new Map<string, HostTensor>();
  const rand = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.05) });
  host.set('model.embed_tokens.weight', rand([V, H]));
  host.set('lm_head.weight', rand([V, H]));
  host.set('model.norm.weight', { shape: [H], data: new Float32Array(H).fill(1) });
  for (let l = 0; l < 2; l++) {
    const p = `model.layers.${l}`;
    host.set(`${p}.input_layernorm.weight`, { shape: [H], data: new Float32Array(H).fill(1) });
    host.set(`${p}.post_attention_layernorm.weight`, { shape: [H], data: new Float32Array(H).fill(1) });
    for (const [name, shape] of [['self_attn.q_proj', [H, H]], ['self_attn.k_proj', [kv, H]], ['self_attn.v_proj', [kv, H]], ['self_attn.o_proj', [H, H]], ['mlp.gate_proj', [F, H]], ['mlp.up_proj', [F, H]], ['mlp.down_proj', [H, F]]] as const) {
      host.set(`${p}.${name}.weight`, rand([...shape]));
    }
    for (const [name, n] of [['q_proj', H], ['k_proj', kv], ['v_proj', kv]] as const) host.set(`${p}.self_attn.${name}.bias`, rand([n]));
  }
  return { config, weights: weightsFromHost(config, host, 'wide') };
}
