import { Rng } from '@cope/core';
import { describeWithFixtures, fixture, readFixtureJson } from '#testing';
import { embeddingLookups, withTinyLlamaAndAdapter } from '#testing/models';
import { disposeModel, forward, initBackend, loadModel, parseModelConfig, tf, weightsFromHost, type CausalLM, type HostTensor, type LoraAdapter } from '@cope/model';
import { contrastiveDecoder, generate, plainDecoder } from '@cope/decoding';

beforeAll(async () => {
  await initBackend(process.env.COPE_BACKEND ?? 'wasm');
});

for (const name of ['tiny-llama', 'tiny-qwen2', 'tiny-mistral']) {
  describeWithFixtures(`greedy generate on ${name}`, [`models/${name}/expected.json`], () => {
    test('equals expected.greedy', async () => {
      const model = await loadModel(fixture('models', name));
      const e = readFixtureJson('models', name, 'expected.json');
      const [r] = await generate(model, [e.greedy.prompt], { maxNewTokens: e.greedy.new_tokens, eosTokenIds: [] });
      expect(r.ids).toEqual(e.greedy.expected);
      disposeModel(model);
    });
  });
}

describeWithFixtures('stories260K greedy generation', ['models/stories260K/parity_reference.json'], () => {
  test('batched prompts of different lengths (left padding) give each prompt\'s 40 reference tokens', async () => {
    const model = await loadModel(fixture('models', 'stories260K'));
    const cases = readFixtureJson('models', 'stories260K', 'parity_reference.json').cases;
    const out = await generate(model, cases.map((c: any) => c.input_ids), { maxNewTokens: 40, eosTokenIds: [] });
    cases.forEach((c: any, i: number) => expect(out[i].ids).toEqual(c.greedy_new_ids));
    disposeModel(model);
  });
});

describeWithFixtures('CoPe contrastive decoding on tiny-llama', ['models/tiny-llama/expected.json', 'models/tiny-llama/adapter/adapter_config.json'], () => {
  let model: CausalLM;
  let adapter: LoraAdapter;
  withTinyLlamaAndAdapter((m, a) => ((model = m), (adapter = a)));

  test('every listed continuation is identical (expert and amateur batched, per-row adapters)', async () => {
    const cases = readFixtureJson('models', 'tiny-llama', 'expected.json').contrastive;
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const decoder = contrastiveDecoder({ contrastiveAlpha: c.lambda, plausibility: c.plausibility, masked: c.masked, repetitionPenalty: c.repetition_penalty });
      const [r] = await generate(model, [c.prompt], { maxNewTokens: c.new_tokens, decoder, adapter, eosTokenIds: [] });
      expect({ ...c, got: r.ids }).toEqual({ ...c, got: c.expected });
    }
  });

  test('a separate amateur model gives the same continuation as the batched rows', async () => {
    const c = readFixtureJson('models', 'tiny-llama', 'expected.json').contrastive[0];
    const decoder = contrastiveDecoder({ contrastiveAlpha: c.lambda });
    const [r] = await generate(model, [c.prompt], { maxNewTokens: c.new_tokens, decoder, adapter, amateurModel: model, eosTokenIds: [] });
    expect(r.ids).toEqual(c.expected);
  });

  test('a separate amateur of another shape (a smaller random model, same vocabulary) follows the published rule, computed here from full forwards in float64', async () => {
    // The amateur: 1 layer, hidden 16, tied, random weights, tiny-llama's vocabulary.
    const V = model.config.vocabSize;
    const rng = new Rng(11);
    const config = parseModelConfig({ model_type: 'llama', vocab_size: V, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 24, tie_word_embeddings: true });
    const host = new Map<string, HostTensor>();
    const rand = (shape: number[], scale = 0.5) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale) });
    host.set('model.embed_tokens.weight', rand([V, 16], 1));
    host.set('model.norm.weight', { shape: [16], data: new Float32Array(16).fill(1) });
    host.set('model.layers.0.input_layernorm.weight', { shape: [16], data: new Float32Array(16).fill(1) });
    host.set('model.layers.0.post_attention_layernorm.weight', { shape: [16], data: new Float32Array(16).fill(1) });
    for (const [name, shape] of [['self_attn.q_proj', [16, 16]], ['self_attn.k_proj', [8, 16]], ['self_attn.v_proj', [8, 16]], ['self_attn.o_proj', [16, 16]], ['mlp.gate_proj', [24, 16]], ['mlp.up_proj', [24, 16]], ['mlp.down_proj', [16, 24]]] as const) {
      host.set(`model.layers.0.${name}.weight`, rand([...shape]));
    }
    const amateur: CausalLM = { config, weights: weightsFromHost(config, host, 'amateur') };
    const lam = 0.5;
    const prompt = [1, 20, 30, 40];
    const [r] = await generate(model, [prompt], { maxNewTokens: 16, decoder: contrastiveDecoder({ contrastiveAlpha: lam }), adapter, amateurModel: amateur, eosTokenIds: [] });

    const lastLogits = async (m: CausalLM, ids: number[], a: LoraAdapter | null) => {
      const { logits } = forward(m, [ids], { adapters: a });
      const all = (await logits.data()) as Float32Array;
      logits.dispose();
      return Array.from(all.subarray(all.length - V));
    };
    const softmax = (x: number[]) => {
      const m = Math.max(...x);
      const e = x.map((v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / z);
    };
    const ids = prompt.slice();
    const want: number[] = [];
    for (let step = 0; step < 16; step++) {
      const pE = softmax(await lastLogits(model, ids, adapter));
      const pA = softmax(await lastLogits(amateur, ids, null));
      const top = Math.max(...pE);
      const kept = pE.map((p) => (p >= 0.1 * top ? p : 0));
      const z = kept.reduce((a, b) => a + b, 0);
      const s = kept.map((p, v) => Math.log(p / (z + 1e-8) + 1e-8) - lam * Math.log(pA[v] + 1e-8));
      const next = s.indexOf(Math.max(...s));
      want.push(next);
      ids.push(next);
    }
    expect(r.ids).toEqual(want);
    // The amateur matters: the same decoding with the bare model as amateur goes elsewhere.
    const [bare] = await generate(model, [prompt], { maxNewTokens: 16, decoder: contrastiveDecoder({ contrastiveAlpha: lam }), adapter, eosTokenIds: [] });
    expect(bare.ids).not.toEqual(r.ids);
    disposeModel(amateur);
  });

  test('greedy with the adapter equals expected.adapter.greedy; no tensor leaks over 100 tokens', async () => {
    const e = readFixtureJson('models', 'tiny-llama', 'expected.json');
    const [g] = await generate(model, [e.greedy.prompt], { maxNewTokens: 10, adapter, eosTokenIds: [] });
    expect(g.ids).toEqual(e.adapter.greedy);
    const n = tf.memory().numTensors;
    const streamed: number[] = [];
    const [r] = await generate(model, [e.greedy.prompt, [1, 2]], { maxNewTokens: 100, decoder: contrastiveDecoder(), adapter, eosTokenIds: [], onToken: (seq, tok) => seq === 0 && streamed.push(tok) });
    expect(r.ids.length).toBe(100);
    expect(streamed).toEqual(r.ids);
    expect(tf.memory().numTensors).toBe(n);
  });

  test('sampling is reproducible with a seed and stays inside top-k', async () => {
    const prompt = [1, 20, 30];
    const run = (seed: number) => generate(model, [prompt], { maxNewTokens: 20, decoder: plainDecoder({ doSample: true, topK: 1, temperature: 0.7 }), rng: new Rng(seed), eosTokenIds: [] });
    const greedy = await generate(model, [prompt], { maxNewTokens: 20, eosTokenIds: [] });
    // top-k 1 leaves only the argmax: sampling must equal greedy whatever the seed.
    expect((await run(1))[0].ids).toEqual(greedy[0].ids);
    // A tiny nucleus keeps only the most likely token too.
    const nucleus = await generate(model, [prompt], { maxNewTokens: 20, decoder: plainDecoder({ doSample: true, topK: 0, topP: 1e-6, temperature: 2 }), rng: new Rng(3), eosTokenIds: [] });
    expect(nucleus[0].ids).toEqual(greedy[0].ids);
    const free = (seed: number) => generate(model, [prompt], { maxNewTokens: 20, decoder: plainDecoder({ doSample: true, temperature: 1.5, topK: 0 }), rng: new Rng(seed), eosTokenIds: [] });
    const [a, b, c] = await Promise.all([free(7), free(7), free(8)]);
    expect(a[0].ids).toEqual(b[0].ids);
    expect(a[0].ids).not.toEqual(c[0].ids);
  });

  test('a sequence that stops leaves the batch; the others continue exactly as alone; no leaks', async () => {
    const a = [1, 20, 30, 40];
    const b = [1, 77];
    const cd = () => contrastiveDecoder();
    const [soloA] = await generate(model, [a], { maxNewTokens: 12, eosTokenIds: [], decoder: cd(), adapter });
    const [soloB] = await generate(model, [b], { maxNewTokens: 12, eosTokenIds: [], decoder: cd(), adapter });
    // A stop token that ends `a` after three tokens but never occurs in `b`'s continuation.
    const stopAt = soloA.ids[2];
    expect(soloB.ids).not.toContain(stopAt);
    const n = tf.memory().numTensors;
    const [ra, rb] = await generate(model, [a, b], { maxNewTokens: 12, eosTokenIds: [stopAt], decoder: contrastiveDecoder(), adapter });
    const [ca] = await generate(model, [a], { maxNewTokens: 12, eosTokenIds: [stopAt], decoder: contrastiveDecoder(), adapter });
    const [cb] = await generate(model, [b], { maxNewTokens: 12, eosTokenIds: [stopAt], decoder: contrastiveDecoder(), adapter });
    expect(ra.ids).toEqual(ca.ids);
    expect(ra.finishReason).toBe('eos');
    expect(ra.ids.length).toBeLessThanOrEqual(3);
    expect(rb.ids).toEqual(cb.ids);
    expect(rb.ids).toEqual(soloB.ids);
    expect(tf.memory().numTensors).toBe(n);
  });

  test('a prompt repeated within the batch is read once; every row decodes as the prompt alone', async () => {
    const a = [1, 20, 30, 40, 50, 60, 70];
    const b = [1, 77];
    const batch = [a, b, a, a];
    const lookups: number[][] = [];
    for (const decoder of [plainDecoder(), contrastiveDecoder()]) {
      // The same prompts without repeats (padded alike): rows are computed independently, so bitwise equal.
      const solo = await generate(model, [a, b], { maxNewTokens: 10, eosTokenIds: [], decoder, adapter });
      const n = tf.memory().numTensors;
      let out: Awaited<ReturnType<typeof generate>> = [];
      const info = await tf.profile(async () => {
        out = await generate(model, batch, { maxNewTokens: 10, eosTokenIds: [], decoder, adapter });
      });
      // Embedding lookups of the prompt step (7 positions per row; steps look up at most 8 ids).
      lookups.push(embeddingLookups(model, info.kernels, 8));
      expect(out.map((r) => r.ids)).toEqual([solo[0].ids, solo[1].ids, solo[0].ids, solo[0].ids]);
      expect(out.map((r) => r.logProbs)).toEqual([solo[0].logProbs, solo[1].logProbs, solo[0].logProbs, solo[0].logProbs]);
      expect(tf.memory().numTensors).toBe(n);
    }
    expect(lookups).toEqual([[2 * 7], [2 * 2 * 7]]);
    // Sampled rows of one prompt still draw their own tokens.
    const sampled = await generate(model, [a, a, a], { maxNewTokens: 10, eosTokenIds: [], decoder: plainDecoder({ doSample: true, temperature: 1.5, topK: 0 }), rng: new Rng(4) });
    expect(new Set(sampled.map((r) => r.ids.join(','))).size).toBeGreaterThan(1);
  });

  test('stops at EOS per sequence', async () => {
    const e = readFixtureJson('models', 'tiny-llama', 'expected.json');
    const stopAt = e.greedy.expected[3];
    const [r] = await generate(model, [e.greedy.prompt], { maxNewTokens: 10, eosTokenIds: [stopAt] });
    expect(r.ids).toEqual(e.greedy.expected.slice(0, 4));
    expect(r.finishReason).toBe('eos');
  });
});
