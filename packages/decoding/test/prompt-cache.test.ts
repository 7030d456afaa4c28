import { Rng } from '@cope/core';
import { describeWithFixtures, fixture } from '#testing';
import { embeddingLookups, withTinyLlamaAndAdapter } from '#testing/models';
import { disposeModel, initBackend, loadModel, tf, type CausalLM, type LoraAdapter } from '@cope/model';
import { PromptCache, contrastiveDecoder, generate, plainDecoder, type GenerateOptions } from '@cope/decoding';

beforeAll(async () => {
  await initBackend(process.env.COPE_BACKEND ?? 'wasm');
});

/**
 * The embedding lookups of a call's prompt forwards (ids embedded per lookup): lookups in the vocabulary-sized
 * table over more ids than a decoding step has rows (at most 6 here).
 */
async function promptLookups(model: CausalLM, run: () => Promise<unknown>): Promise<number[]> {
  const info = await tf.profile(async () => {
    await run();
  });
  return embeddingLookups(model, info.kernels, 6);
}

describeWithFixtures('prompt cache: the bare model reads a prompt batch once', ['models/tiny-llama/adapter/adapter_config.json'], () => {
  let model: CausalLM;
  let adapter: LoraAdapter;
  // Three prompts of different lengths (left padding to 7): the batch's rows and masks are part of what is cached.
  const prompts = [[1, 20, 30, 40, 50, 60, 70], [1, 77], [1, 5, 9]];
  const T = 7;
  const base: GenerateOptions = { maxNewTokens: 12, eosTokenIds: [] };
  withTinyLlamaAndAdapter((m, a) => ((model = m), (adapter = a)));
  beforeAll(async () => {
    // The model builds its decoding copies of the weights on first use and keeps them: build them before counting.
    await generate(model, [prompts[1]], { ...base, maxNewTokens: 2, decoder: contrastiveDecoder(), adapter });
    await generate(model, [prompts[1]], { ...base, maxNewTokens: 2 });
  });

  test('TAM greedy, then contrastive decoding: the contrastive call reads the prompt with its expert rows only; results bitwise the same', async () => {
    const before = tf.memory().numTensors;
    const plainTam = await generate(model, prompts, base);
    const plainCd = await generate(model, prompts, { ...base, decoder: contrastiveDecoder(), adapter });
    const cache = new PromptCache();
    let tam: Awaited<ReturnType<typeof generate>> = [];
    expect(await promptLookups(model, async () => (tam = await generate(model, prompts, { ...base, promptCache: cache })))).toEqual([3 * T]);
    expect(cache.size).toBe(1);
    let cd: typeof tam = [];
    expect(await promptLookups(model, async () => (cd = await generate(model, prompts, { ...base, decoder: contrastiveDecoder(), adapter, promptCache: cache })))).toEqual([3 * T]);
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
    expect(tam).toEqual(plainTam);
    expect(cd).toEqual(plainCd);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('contrastive twice: the first call records the amateur rows, the second reuses them; sampling too', async () => {
    const before = tf.memory().numTensors;
    const cache = new PromptCache();
    const sampler = () => contrastiveDecoder({ doSample: true, temperature: 0.8, topK: 50, topP: 0.95 });
    const want = await generate(model, prompts, { ...base, decoder: sampler(), adapter, rng: new Rng(5) });
    const lookups = [
      await promptLookups(model, () => generate(model, prompts, { ...base, decoder: sampler(), adapter, rng: new Rng(9), promptCache: cache })),
      await promptLookups(model, async () => expect(await generate(model, prompts, { ...base, decoder: sampler(), adapter, rng: new Rng(5), promptCache: cache })).toEqual(want)),
    ];
    expect(lookups).toEqual([[6 * T], [3 * T]]);
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('bare greedy served whole from the cache, with a sequence that stops at its first token', async () => {
    const before = tf.memory().numTensors;
    const [first] = await generate(model, [prompts[1]], { ...base, maxNewTokens: 1 });
    const opts = { ...base, eosTokenIds: [first.ids[0]] };
    const want = await generate(model, prompts, opts);
    expect(want[1].ids).toEqual([first.ids[0]]);
    const cache = new PromptCache();
    await generate(model, prompts, { ...opts, promptCache: cache });
    let got: typeof want = [];
    expect(await promptLookups(model, async () => (got = await generate(model, prompts, { ...opts, promptCache: cache })))).toEqual([]);
    expect(got).toEqual(want);
    // Another prompt batch (or another padding) is another entry.
    await generate(model, prompts.slice(0, 2), { ...opts, promptCache: cache });
    expect(cache.stats).toEqual({ hits: 1, misses: 2 });
    expect(cache.size).toBe(2);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a separate amateur model is served from the cache too', async () => {
    const want = await generate(model, prompts, { ...base, decoder: contrastiveDecoder(), adapter });
    const cache = new PromptCache();
    await generate(model, prompts, { ...base, promptCache: cache });
    const got = await generate(model, prompts, { ...base, decoder: contrastiveDecoder(), adapter, amateurModel: model, promptCache: cache });
    expect(got).toEqual(want);
    expect(cache.stats.hits).toBe(1);
    cache.dispose();
  });

  test('the byte budget: least recently used entries go, an entry larger than the budget is not kept; other models do not hit', async () => {
    const before = tf.memory().numTensors;
    const probe = new PromptCache();
    await generate(model, [prompts[0]], { ...base, promptCache: probe });
    const one = probe.bytes;
    probe.dispose();
    expect(one).toBeGreaterThan(0);
    const cache = new PromptCache({ maxBytes: 2 * one });
    for (const p of [prompts[0], [1, 2, 3, 4, 5, 6, 7], [1, 9, 9, 9, 9, 9, 9]]) await generate(model, [p], { ...base, promptCache: cache });
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBe(2 * one);
    await generate(model, [prompts[0]], { ...base, promptCache: cache }); // evicted first: a miss
    expect(cache.stats).toEqual({ hits: 0, misses: 4 });
    const other = await loadModel(fixture('models', 'tiny-llama'));
    await generate(other, [prompts[0]], { ...base, promptCache: cache });
    expect(cache.stats.hits).toBe(0);
    disposeModel(other);
    const small = new PromptCache({ maxBytes: one - 1 });
    const want = await generate(model, [prompts[0]], base);
    expect(await generate(model, [prompts[0]], { ...base, promptCache: small })).toEqual(want);
    expect(small.size).toBe(0);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new PromptCache({ maxBytes: -1 })).toThrow(/maxBytes/);
  });

  test('greedy with the adapter (no bare rows) neither reads nor records', async () => {
    const cache = new PromptCache();
    await generate(model, prompts, { ...base, decoder: plainDecoder(), adapter, promptCache: cache });
    expect(cache.stats).toEqual({ hits: 0, misses: 0 });
    expect(cache.size).toBe(0);
  });
});
