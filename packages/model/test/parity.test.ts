
import { describeWithFixtures, fixture, readFixtureJson } from '#testing';
import { disposeAdapter, disposeModel, forward, loadLoraAdapter, loadModel, readSafetensors, sequenceLogProbs, tf, weightsToHost, type CausalLM, type LoraAdapter } from '@cope/model';
import { greedyCached, maxAbsDiff, setupBackend } from './helpers.js';
import { setFrozenCopyBudgets } from '../src/frozen-copies.js';

beforeAll(setupBackend);

for (const name of ['tiny-llama', 'tiny-qwen2', 'tiny-mistral']) {
  describeWithFixtures(`${name} matches the float64 Hugging Face reference`, [`models/${name}/expected.json`, `models/${name}/model.safetensors`], () => {
    let model: CausalLM;
    let expected: any;
    let before: number;
    beforeAll(async () => {
      before = tf.memory().numTensors;
      model = await loadModel(fixture('models', name));
      expected = readFixtureJson('models', name, 'expected.json');
    });
    afterAll(() => {
      disposeModel(model);
      expect(tf.memory().numTensors).toBe(before);
    });

    test('full causal forward logits within 1e-4', async () => {
      // A first forward builds the model-owned packed weight copies (freed with the model, checked in afterAll).
      forward(model, expected.input_ids).logits.dispose();
      const n = tf.memory().numTensors;
      const { logits } = forward(model, expected.input_ids);
      const got = (await logits.data()) as Float32Array;
      logits.dispose();
      expect(maxAbsDiff(got, expected.logits.flat(2))).toBeLessThan(1e-4);
      expect(tf.memory().numTensors).toBe(n);
    });

    test('greedy continuation through the KV cache is identical', async () => {
      // A first decode builds the model-owned constants (freed with the model, checked in afterAll).
      await greedyCached(model, expected.greedy.prompt, 2);
      const n = tf.memory().numTensors;
      const got = await greedyCached(model, expected.greedy.prompt, expected.greedy.new_tokens);
      expect(got).toEqual(expected.greedy.expected);
      expect(tf.memory().numTensors).toBe(n);
    });

    test('completion log-prob sum within 1e-3, per token within 1e-4', async () => {
      const [lp] = await sequenceLogProbs(model, [{ prompt: expected.logprob.prompt, completion: expected.logprob.completion }]);
      expect(Math.abs(lp.sum - expected.logprob.sum)).toBeLessThan(1e-3);
      expect(Math.abs(lp.mean - expected.logprob.mean)).toBeLessThan(1e-3);
      expect(maxAbsDiff(lp.perToken, expected.logprob.per_token)).toBeLessThan(1e-4);
    });
  });
}

describeWithFixtures('tiny-llama with its PEFT adapter matches the reference', ['models/tiny-llama/adapter/adapter_model.safetensors', 'models/tiny-llama/expected.json'], () => {
  let model: CausalLM;
  let adapter: LoraAdapter;
  let expected: any;
  beforeAll(async () => {
    model = await loadModel(fixture('models', 'tiny-llama'));
    adapter = await loadLoraAdapter(model, fixture('models', 'tiny-llama', 'adapter'));
    expected = readFixtureJson('models', 'tiny-llama', 'expected.json');
  });
  afterAll(() => {
    disposeAdapter(adapter);
    disposeModel(model);
  });

  test('logits within 1e-4', async () => {
    const { logits } = forward(model, expected.input_ids, { adapters: adapter });
    expect(maxAbsDiff((await logits.data()) as Float32Array, expected.adapter.logits.flat(2))).toBeLessThan(1e-4);
    logits.dispose();
  });

  test('greedy identical', async () => {
    expect(await greedyCached(model, expected.greedy.prompt, expected.greedy.new_tokens, adapter)).toEqual(expected.adapter.greedy);
  });

  test('log-probs within 1e-3', async () => {
    const [lp] = await sequenceLogProbs(model, [{ prompt: expected.logprob.prompt, completion: expected.logprob.completion }], adapter);
    expect(Math.abs(lp.sum - expected.adapter.logprob.sum)).toBeLessThan(1e-3);
    expect(maxAbsDiff(lp.perToken, expected.adapter.logprob.per_token)).toBeLessThan(1e-4);
  });
});

describeWithFixtures('stories260K (a real pretrained model) matches its references', ['models/stories260K/parity_reference.json', 'models/stories260K/greedy_256_reference.json'], () => {
  let model: CausalLM;
  beforeAll(async () => {
    model = await loadModel(fixture('models', 'stories260K'));
  });
  afterAll(() => disposeModel(model));

  test('prompt logits within 1e-4 and 40 greedy tokens identical', async () => {
    const ref = readFixtureJson('models', 'stories260K', 'parity_reference.json');
    for (const c of ref.cases) {
      const { logits } = forward(model, [c.input_ids]);
      expect(maxAbsDiff((await logits.data()) as Float32Array, c.prompt_logits.flat())).toBeLessThan(1e-4);
      logits.dispose();
      const key = Object.keys(c).find((k) => /greedy/.test(k) && /ids/.test(k))!;
      const want: number[] = c[key];
      const got = await greedyCached(model, c.input_ids, want.length);
      expect(got).toEqual(want);
    }
  });

  test('256 greedy tokens from BOS reproduce the published sample', async () => {
    const ref = readFixtureJson('models', 'stories260K', 'greedy_256_reference.json');
    const want: number[] = ref.greedy_ids_including_bos;
    const got = await greedyCached(model, [want[0]], want.length - 1);
    expect([want[0], ...got]).toEqual(want);
  });
});

describeWithFixtures('tied embeddings (tiny-qwen2) are held once, as the head\'s kernel', ['models/tiny-qwen2/expected.json', 'models/tiny-qwen2/model.safetensors'], () => {
  test('lookups read the kept transposed copy, or the kernel\'s columns with no copy budget: logits and greedy match the reference; saving restores the embedding', async () => {
    const expected = readFixtureJson('models', 'tiny-qwen2', 'expected.json');
    const check = async (model: CausalLM) => {
      const { logits } = forward(model, expected.input_ids);
      expect(maxAbsDiff((await logits.data()) as Float32Array, expected.logits.flat(2))).toBeLessThan(1e-4);
      logits.dispose();
      expect(await greedyCached(model, expected.greedy.prompt, expected.greedy.new_tokens)).toEqual(expected.greedy.expected);
    };
    const kept = await loadModel(fixture('models', 'tiny-qwen2'));
    expect(kept.weights.embed).toBeUndefined();
    expect(kept.weights.lmHead.kernelT).toBeUndefined();
    await check(kept);
    expect(kept.weights.lmHead.kernelT?.shape).toEqual([kept.config.vocabSize, kept.config.hiddenSize]);
    // The embedding saved from the head's kernel is the file's, bit for bit.
    const file = (await readSafetensors(fixture('models', 'tiny-qwen2', 'model.safetensors'))).get('model.embed_tokens.weight')!;
    const saved = (await weightsToHost(kept)).get('model.embed_tokens.weight')!;
    expect(saved.shape).toEqual(file.shape);
    expect(Buffer.from(saved.data.buffer, saved.data.byteOffset, saved.data.byteLength).equals(Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength))).toBe(true);
    disposeModel(kept);
    setFrozenCopyBudgets({ transposed: 0 });
    try {
      const lean = await loadModel(fixture('models', 'tiny-qwen2'));
      await check(lean);
      expect(lean.weights.lmHead.kernelT).toBeUndefined();
      disposeModel(lean);
    } finally {
      setFrozenCopyBudgets({ transposed: 256 * 1024 * 1024 });
    }
  });
});
