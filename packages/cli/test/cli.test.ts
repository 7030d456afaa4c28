import { Rng } from '@cope/core';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeWithFixtures, fixture, readFixtureJson } from '#testing';
import { runCli } from '@cope/cli';
import { adapterVariables, createLoraAdapter, disposeAdapter, disposeModel, initBackend, loadModel, saveLoraAdapter, saveModel, tf } from '@cope/model';
import { tempDir } from '#testing/temp';
import { textStreamer } from '../src/io.js';
import { loadRunConfig } from '../src/config-file.js';
import { resolveSftConfig } from '@cope/sft';
import { resolveDpoConfig } from '@cope/dpo';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n') });
  return { code, out, err };
}

describeWithFixtures('cope model commands', ['models/tiny-llama/expected.json', 'models/stories260K/tokenizer.json', 'models/tiny-qwen2/config.json'], () => {
  test('forward prints the reference logits', async () => {
    const e = readFixtureJson('models', 'tiny-llama', 'expected.json');
    const r = await run(['forward', '--model', fixture('models', 'tiny-llama'), '--ids', e.input_ids[0].join(','), '--backend', 'wasm']);
    expect(r.code).toBe(0);
    const logits = JSON.parse(r.out).logits as number[][];
    expect(logits.length).toBe(12);
    let max = 0;
    logits.flat().forEach((x, i) => (max = Math.max(max, Math.abs(x - e.logits[0].flat()[i]))));
    expect(max).toBeLessThan(1e-4);
  });

  test('forward --weights bf16 on the native backend: a BF16 folder gives the logits of its widened load; other values and backends are refused', async () => {
    const dir = tempDir('cope-bf16-cli-');
    const src = fixture('models', 'tiny-llama');
    const m = await loadModel(src);
    await saveModel(m, dir, { dtype: 'BF16' });
    disposeModel(m);
    const ids = '1,5,9,200,3';
    const widened = await run(['forward', '--model', dir, '--ids', ids, '--backend', 'native']);
    const kept = await run(['forward', '--model', dir, '--ids', ids, '--backend', 'native', '--weights', 'bf16']);
    expect([widened.code, kept.code]).toEqual([0, 0]);
    expect(JSON.parse(kept.out)).toEqual(JSON.parse(widened.out));
    expect((await run(['forward', '--model', dir, '--ids', ids, '--backend', 'native', '--weights', 'fp8'])).err).toMatch(/--weights: expected float32 or bf16, got "fp8"/);
    expect((await run(['forward', '--model', dir, '--ids', ids, '--backend', 'wasm', '--weights', 'bf16'])).err).toMatch(/bf16' run on the native backend only \(active backend: wasm\)/);
    await initBackend('wasm');
  });

  test('generate: greedy and contrastive ids equal the fixture', async () => {
    const e = readFixtureJson('models', 'tiny-llama', 'expected.json');
    const g = await run(['generate', '--model', fixture('models', 'tiny-llama'), '--prompt-ids', e.greedy.prompt.join(','), '--max-new-tokens', '10', '--backend', 'wasm']);
    expect(JSON.parse(g.out)).toEqual({ ids: e.greedy.expected });
    const c = e.contrastive[3];
    const r = await run(['generate', '--model', fixture('models', 'tiny-llama'), '--adapter', fixture('models', 'tiny-llama', 'adapter'), '--prompt-ids', c.prompt.join(','),
      '--max-new-tokens', String(c.new_tokens), '--decoding', 'contrastive', '--contrastive-alpha', String(c.lambda), '--masked', c.masked, '--repetition-penalty', String(c.repetition_penalty), '--backend', 'wasm']);
    expect(JSON.parse(r.out)).toEqual({ ids: c.expected });
  });

  test('generate --logprobs: each greedy token\'s log-probability is the log-softmax of cope forward\'s logits (float64 here)', async () => {
    const e = readFixtureJson('models', 'tiny-llama', 'expected.json');
    const model = fixture('models', 'tiny-llama');
    const g = JSON.parse((await run(['generate', '--model', model, '--prompt-ids', e.greedy.prompt.join(','), '--max-new-tokens', '6', '--logprobs', '--backend', 'wasm'])).out);
    expect(g.ids).toEqual(e.greedy.expected.slice(0, 6));
    const seq = [...e.greedy.prompt, ...g.ids];
    const rows = JSON.parse((await run(['forward', '--model', model, '--ids', seq.join(','), '--backend', 'wasm'])).out).logits as number[][];
    g.ids.forEach((id: number, k: number) => {
      const row = rows[e.greedy.prompt.length - 1 + k];
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
      expect(Math.abs(g.logProbs[k] - (row[id] - lse))).toBeLessThan(1e-5);
    });
  });

  const maxDiff = (a: number[][], b: number[][]) => a.flat().reduce((m, x, i) => Math.max(m, Math.abs(x - b.flat()[i])), 0);

  test('merge-adapter writes a model folder whose logits are the adapter\'s reference logits; forward --base-adapter gives the same', async () => {
    const e = readFixtureJson('models', 'tiny-llama', 'expected.json');
    const out = path.join(tempDir('cope-merge-'), 'merged');
    const m = await run(['merge-adapter', '--model', fixture('models', 'tiny-llama'), '--adapter', fixture('models', 'tiny-llama', 'adapter'), '--out', out, '--backend', 'wasm']);
    expect(m.err).toBe('');
    expect(JSON.parse(m.out)).toEqual({ out, dtype: 'f32', files: ['config.json', 'model.safetensors'] });
    for (const model of [['--model', out], ['--model', fixture('models', 'tiny-llama'), '--base-adapter', fixture('models', 'tiny-llama', 'adapter')]]) {
      const r = await run(['forward', ...model, '--ids', e.input_ids[0].join(','), '--backend', 'wasm']);
      expect(maxDiff(JSON.parse(r.out).logits, e.adapter.logits[0])).toBeLessThan(1e-4);
    }
    const bad = await run(['forward', '--model', fixture('models', 'tiny-llama'), '--base-adapter', '/nope', '--ids', '1', '--backend', 'wasm']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error: \/nope\/adapter_config.json: cannot read adapter config/);
  });

  /** Two random adapters of stories260K saved in `dir`: the "TAM" (`tam`) merged into the base, and the user's (`user`) on top of it. */
  async function storiesAdapters(dir: string): Promise<void> {
    await initBackend('wasm');
    const bare = await loadModel(fixture('models', 'stories260K'));
    const rng = new Rng(7);
    for (const name of ['tam', 'user']) {
      const a = createLoraAdapter(bare, name, { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj', 'down_proj'] }, rng);
      for (const v of adapterVariables(a)) v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal() * 0.2), v.shape));
      await saveLoraAdapter(a, path.join(dir, name));
      disposeAdapter(a);
    }
    disposeModel(bare);
  }

  test('generate --base-adapter decodes as the merged folder does (contrastive: the merged model is the amateur); merge-adapter copies the tokenizer files and writes bf16 on request', async () => {
    const dir = tempDir('cope-base-');
    const stories = fixture('models', 'stories260K');
    await storiesAdapters(dir);
    const merged = path.join(dir, 'merged');
    const m = await run(['merge-adapter', '--model', stories, '--adapter', path.join(dir, 'tam'), '--out', merged, '--backend', 'wasm']);
    expect(JSON.parse(m.out).files).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']);
    expect(readFileSync(path.join(merged, 'tokenizer.json'))).toEqual(readFileSync(path.join(stories, 'tokenizer.json')));
    const gen = (...model: string[]) => run(['generate', ...model, '--adapter', path.join(dir, 'user'), '--prompt', 'Once upon a time', '--decoding', 'contrastive', '--max-new-tokens', '24', '--backend', 'wasm']);
    const viaFolder = await gen('--model', merged);
    const viaFlag = await gen('--model', stories, '--base-adapter', path.join(dir, 'tam'));
    expect(viaFlag.out).toBe(viaFolder.out);
    expect(JSON.parse(viaFlag.out).ids).toHaveLength(24);
    // The merge changed the model: its logits are not the bare model's.
    const logits = async (...model: string[]) => JSON.parse((await run(['forward', ...model, '--ids', '1,403,407,261,378', '--backend', 'wasm'])).out).logits as number[][];
    const mergedLogits = await logits('--model', merged);
    expect(maxDiff(mergedLogits, await logits('--model', stories))).toBeGreaterThan(1e-2);
    expect(maxDiff(mergedLogits, await logits('--model', stories, '--base-adapter', path.join(dir, 'tam')))).toBe(0);
    // bf16: every tensor stored as BF16, logits within bf16 rounding of the f32 folder's.
    const half = path.join(dir, 'merged-bf16');
    await run(['merge-adapter', '--model', stories, '--adapter', path.join(dir, 'tam'), '--out', half, '--dtype', 'bf16', '--backend', 'wasm']);
    const bytes = readFileSync(path.join(half, 'model.safetensors'));
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8')) as Record<string, { dtype?: string }>;
    expect(new Set(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, v]) => v.dtype))).toEqual(new Set(['BF16']));
    const halfDiff = maxDiff(await logits('--model', half), mergedLogits);
    expect(halfDiff).toBeGreaterThan(0);
    expect(halfDiff).toBeLessThan(0.5);
  });

  test('generate --amateur-model: a separate amateur decodes as the batched one (tiny-llama\'s contrastive fixture; stories260K with a merged TAM folder); a different tokenizer or vocabulary is refused', async () => {
    const e = readFixtureJson('models', 'tiny-llama', 'expected.json');
    const c = e.contrastive[3];
    const llama = fixture('models', 'tiny-llama');
    const contrastive = ['--decoding', 'contrastive', '--contrastive-alpha', String(c.lambda), '--masked', c.masked, '--repetition-penalty', String(c.repetition_penalty), '--backend', 'wasm'];
    const r = await run(['generate', '--model', llama, '--adapter', fixture('models', 'tiny-llama', 'adapter'), '--amateur-model', llama, '--prompt-ids', c.prompt.join(','), '--max-new-tokens', String(c.new_tokens), ...contrastive]);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toEqual({ ids: c.expected });

    const dir = tempDir('cope-amateur-');
    const stories = fixture('models', 'stories260K');
    await storiesAdapters(dir);
    const merged = path.join(dir, 'merged');
    await run(['merge-adapter', '--model', stories, '--adapter', path.join(dir, 'tam'), '--out', merged, '--backend', 'wasm']);
    const gen = (...args: string[]) => run(['generate', ...args, '--adapter', path.join(dir, 'user'), '--prompt', 'Once upon a time', '--decoding', 'contrastive', '--max-new-tokens', '24', '--backend', 'wasm']);
    const batched = await gen('--model', stories, '--base-adapter', path.join(dir, 'tam'));
    const separate = await gen('--model', stories, '--base-adapter', path.join(dir, 'tam'), '--amateur-model', merged);
    expect(separate.err).toBe('');
    expect(separate.out).toBe(batched.out);
    // The bare model as the amateur is another contrast: it changes the continuation.
    const bareAmateur = await gen('--model', stories, '--base-adapter', path.join(dir, 'tam'), '--amateur-model', stories);
    expect(JSON.parse(bareAmateur.out).ids).not.toEqual(JSON.parse(batched.out).ids);

    // A tokenizer with one token renamed, and a model of another vocabulary, are refused before decoding.
    const renamed = path.join(dir, 'renamed');
    await run(['merge-adapter', '--model', stories, '--adapter', path.join(dir, 'tam'), '--out', renamed, '--backend', 'wasm']);
    const tok = JSON.parse(readFileSync(path.join(renamed, 'tokenizer.json'), 'utf8'));
    // The same tokenizer written out differently (other bytes, same vocabulary) is accepted.
    writeFileSync(path.join(renamed, 'tokenizer.json'), JSON.stringify(tok, null, 1));
    expect((await gen('--model', stories, '--amateur-model', renamed)).code).toBe(0);
    const [first] = Object.keys(tok.model.vocab).slice(-1);
    tok.model.vocab[`${first}x`] = tok.model.vocab[first];
    delete tok.model.vocab[first];
    writeFileSync(path.join(renamed, 'tokenizer.json'), JSON.stringify(tok));
    const badTok = await gen('--model', stories, '--amateur-model', renamed);
    expect(badTok.code).toBe(1);
    expect(badTok.err).toContain(`error: ${path.join(renamed, 'tokenizer.json')}: model.vocab differs from ${path.join(stories, 'tokenizer.json')}'s`);
    const badVocab = await run(['generate', '--model', llama, '--adapter', fixture('models', 'tiny-llama', 'adapter'), '--amateur-model', fixture('models', 'tiny-qwen2'), '--prompt-ids', '1,2', ...contrastive]);
    expect(badVocab.code).toBe(1);
    expect(badVocab.err).toContain(`error: ${path.join(fixture('models', 'tiny-qwen2'), 'config.json')}: vocab_size is 288, expected 320`);
    const notContrastive = await run(['generate', '--model', llama, '--amateur-model', llama, '--prompt-ids', '1,2', '--backend', 'wasm']);
    expect(notContrastive.err).toMatch(/--amateur-model is the amateur of contrastive decoding; add --decoding contrastive \(got --decoding greedy\)/);
  });

  test('generate --chat-template wraps --prompt as a user turn (plain: system, a blank line, the prompt and a newline); --task sets the task\'s token budget; an unknown task or template is refused', async () => {
    const stories = fixture('models', 'stories260K');
    const gen = async (...args: string[]) => JSON.parse((await run(['generate', '--model', stories, ...args, '--max-new-tokens', '12', '--backend', 'wasm'])).out);
    const chat = await gen('--chat-template', 'plain', '--system', 'Be brief.', '--prompt', 'Once upon a time');
    expect(chat).toEqual(await gen('--prompt', 'Be brief.\n\nOnce upon a time\n'));
    expect(chat.ids).not.toEqual((await gen('--prompt', 'Once upon a time')).ids);
    // stories260K has no chat template of its own: "model" falls back to plain.
    expect(await gen('--chat-template', 'model', '--prompt', 'Once upon a time')).toEqual(await gen('--prompt', 'Once upon a time\n'));
    // --task without --max-new-tokens generates as many as CoPe does for the task (100 for a headline; this model does not stop).
    const headline = JSON.parse((await run(['generate', '--model', stories, '--task', 'news_headline', '--prompt', 'Generate a headline for the following article: A cat sat on the mat.', '--backend', 'wasm'])).out);
    expect(headline.ids).toHaveLength(100);
    expect(JSON.parse((await run(['generate', '--model', stories, '--prompt', 'Once upon a time', '--backend', 'wasm'])).out).ids).toHaveLength(32);
    const task = await run(['generate', '--model', stories, '--prompt', 'x', '--task', 'LaMP_9', '--backend', 'wasm']);
    expect(task.err).toMatch(/Unknown task "LaMP_9": expected one of news_headline/);
    const template = await run(['generate', '--model', stories, '--prompt', 'x', '--chat-template', 'vicuna', '--backend', 'wasm']);
    expect(template.err).toMatch(/Unknown chat template "vicuna": expected model or one of mistral, llama, gemma, qwen2.5, plain/);
  });

  test('generate --prompts-file decodes JSON lines in batches, each as it decodes alone, in order, with their ids; bad lines name the file and line', async () => {
    const stories = fixture('models', 'stories260K');
    const prompts = ['Once upon a time', 'The little dog ran to the big red house and', 'Lily'];
    const dir = tempDir('cope-prompts-');
    const file = path.join(dir, 'prompts.jsonl');
    writeFileSync(file, [
      JSON.stringify({ id: 'a', prompt: prompts[0] }),
      JSON.stringify({ id: 7, prompt: prompts[1] }),
      '',
      JSON.stringify({ prompt_ids: [1, 403, 407] }),
      JSON.stringify({ prompt: prompts[2] }),
    ].join('\n'));
    const common = ['--model', stories, '--max-new-tokens', '16', '--logprobs', '--backend', 'wasm'];
    const batched = await run(['generate', ...common, '--prompts-file', file, '--batch-size', '3']);
    expect(batched.err).toBe('');
    const lines = batched.out.trim().split('\n').map((l) => JSON.parse(l));
    const alone = async (...args: string[]) => JSON.parse((await run(['generate', ...common, ...args])).out);
    const want = [
      { id: 'a', ...(await alone('--prompt', prompts[0])) },
      { id: 7, ...(await alone('--prompt', prompts[1])) },
      await alone('--prompt-ids', '1,403,407'),
      await alone('--prompt', prompts[2]),
    ];
    expect(lines.map((l) => ({ ...l, logProbs: undefined }))).toEqual(want.map((w) => ({ ...w, logProbs: undefined })));
    lines.forEach((l, i) => l.logProbs.forEach((lp: number, k: number) => expect(Math.abs(lp - want[i].logProbs[k])).toBeLessThan(1e-5)));
    // Three different text prompts, three different continuations; the ids line has no text.
    expect(new Set(lines.filter((l) => l.text !== undefined).map((l) => l.text)).size).toBe(3);
    expect(lines[2].text).toBeUndefined();

    // "-" reads the lines from stdin (the built CLI in a child process).
    const bin = path.resolve(__dirname, '..', 'dist', 'bin.js');
    const piped = spawnSync(process.execPath, [bin, 'generate', ...common, '--prompts-file', '-', '--batch-size', '3'], { input: readFileSync(file), encoding: 'utf8' });
    expect(piped.status).toBe(0);
    expect(piped.stdout).toBe(batched.out);

    writeFileSync(file, `${JSON.stringify({ prompt: 'ok' })}\n{"prompt_ids": [1, -2]}\n`);
    const bad = await run(['generate', ...common, '--prompts-file', file]);
    expect(bad.err).toContain(`error: ${file}:2: expected {"prompt": "…"} (non-empty text) or {"prompt_ids": [...]} (non-negative integers)`);
    writeFileSync(file, 'not json\n');
    expect((await run(['generate', ...common, '--prompts-file', file])).err).toContain(`error: ${file}:1: not JSON`);
  });

  test('generate refuses decoding settings transformers refuses, and a --max-new-tokens that is not a positive integer, naming them', async () => {
    const stories = fixture('models', 'stories260K');
    const err = async (...args: string[]) => (await run(['generate', '--model', stories, '--prompt', 'x', '--backend', 'wasm', ...args])).err;
    expect(await err('--decoding', 'sample', '--top-p', '1.5')).toMatch(/error: sample decoding: topP: .*<=1 \(got 1.5\)/);
    expect(await err('--decoding', 'sample', '--top-k', '2.5')).toMatch(/error: sample decoding: topK: .*int.* \(got 2.5\)/);
    expect(await err('--decoding', 'sample', '--temperature', '0')).toMatch(/error: sample decoding: temperature: .*>0 \(got 0\)/);
    expect(await err('--repetition-penalty', '-1')).toMatch(/error: greedy decoding: repetitionPenalty: .*>0 \(got -1\)/);
    expect(await err('--max-new-tokens', '0')).toMatch(/error: --max-new-tokens: expected a positive integer, got "0"/);
  });

  test('generate stops at generation_config.json\'s EOS ids, as transformers\' generate does (an instruct model\'s end of turn)', async () => {
    const stories = fixture('models', 'stories260K');
    const args = ['--prompt', 'Once upon a time', '--max-new-tokens', '16', '--backend', 'wasm'];
    const free = JSON.parse((await run(['generate', '--model', stories, ...args])).out);
    expect(free.ids).toHaveLength(16);
    // A copy of the folder whose generation_config.json also ends on the third token generated above.
    const dir = tempDir('cope-eos-');
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) writeFileSync(path.join(dir, f), readFileSync(path.join(stories, f)));
    const stop = free.ids[2];
    expect(free.ids.indexOf(stop)).toBe(2);
    writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 1, eos_token_id: [2, stop] }));
    expect(JSON.parse((await run(['generate', '--model', dir, ...args])).out).ids).toEqual(free.ids.slice(0, 3));
  });

  test('generate --stream writes the text to stderr as it comes, token by token, ending as the printed text', async () => {
    const writes: string[] = [];
    let out = '';
    const args = ['generate', '--model', fixture('models', 'stories260K'), '--prompt', 'Once upon a time', '--max-new-tokens', '40', '--backend', 'wasm'];
    const code = await runCli([...args, '--stream'], { out: (t) => (out += t), err: (t) => writes.push(`error: ${t}`), progress: (t) => writes.push(t) });
    expect(code).toBe(0);
    const { text } = JSON.parse(out);
    expect(writes.join('')).toBe(`${text}\n`);
    expect(writes.filter((w) => w !== '').length).toBeGreaterThan(10);
    expect(JSON.parse((await run(args)).out).text).toBe(text);
  });

  test('the streamer holds back a character whose bytes are still coming, and text the decoder rewrites', () => {
    const writes: string[] = [];
    const bytes = (ids: number[]) => Buffer.from(ids).toString('utf8');
    const s = textStreamer(bytes, (t) => writes.push(t));
    const e = [0xc3, 0xa9];
    s.push([0x61]);
    s.push([0x61, e[0]]);
    expect(writes).toEqual(['a']);
    s.push([0x61, ...e]);
    s.end([0x61, ...e, 0x62]);
    expect(writes).toEqual(['a', 'é', 'b', '\n']);
    // A decoding that rewrites text already written is waited out until the text extends it again.
    const shifting = textStreamer((ids) => [' x', 'x?', ' xyz'][ids.length - 1], (t) => writes.push(t));
    writes.length = 0;
    shifting.push([1]);
    shifting.push([1, 2]);
    expect(writes).toEqual([' x']);
    shifting.end([1, 2, 3]);
    expect(writes).toEqual([' x', 'yz', '\n']);
  });

  test('tokenize follows the tokenizer config (BOS by default, none with --no-special)', async () => {
    const dir = fixture('models', 'stories260K');
    expect(JSON.parse((await run(['tokenize', '--tokenizer', dir, '--text', 'Once upon a time'])).out)).toEqual({ ids: [1, 403, 407, 261, 378] });
    expect(JSON.parse((await run(['tokenize', '--tokenizer', dir, '--text', 'Once upon a time', '--no-special'])).out)).toEqual({ ids: [403, 407, 261, 378] });
  });
});

describe('the README\'s paper.yaml', () => {
  test('is a valid run config whose values are the published CoPe settings the README says (cope-reference.md §3–8)', async () => {
    const readme = readFileSync(path.resolve(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const yaml = /```yaml\n(# paper\.yaml[\s\S]*?)```/.exec(readme)![1];
    const file = path.join(tempDir('cope-paper-'), 'paper.yaml');
    writeFileSync(file, yaml);
    const c = await loadRunConfig(file, {});
    expect(c.tasks).toEqual(['news_headline', 'scholarly_title', 'abstract_generation', 'review_writing', 'topic_writing']);
    expect(c.chatTemplate).toBe('mistral');
    expect(resolveSftConfig('tam', c.tam)).toMatchObject({ learningRate: 1e-4, epochs: 3, batchSize: 8, lora: { r: 16, alpha: 16, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] } });
    expect(resolveSftConfig('oppu', c.oppu)).toMatchObject({ learningRate: 1e-4, epochs: 2, batchSize: 4, lora: { r: 8, alpha: 8, targetModules: ['q_proj', 'v_proj'] } });
    expect(c.negatives).toMatchObject({ n: 3, temperature: 1, topP: 0.95 });
    expect(c.score).toMatchObject({ mode: 'completion', selection: 'max' });
    expect(resolveDpoConfig(c.dpo)).toMatchObject({ learningRate: 5e-6, epochs: 1, batchSize: 8, beta: 0.01, lossType: 'sigmoid' });
    expect(c.decode).toMatchObject({ contrastiveAlpha: 0.1, plausibility: 0.1, masked: 'eps', repetitionPenalty: 1 });
  });
});

describe('cope eval and bad input', () => {
  test('eval prints the metrics and per-example scores', async () => {
    const dir = tempDir('cope-cli-');
    writeFileSync(path.join(dir, 'g.json'), JSON.stringify({ task: 'LaMP_4', golds: [{ id: '1', output: 'a b c' }] }));
    writeFileSync(path.join(dir, 'p.json'), JSON.stringify({ task: 'LaMP_4', golds: [{ id: '1', output: 'a b d' }] }));
    const r = await run(['eval', '--task', 'LaMP_4', '--golds', path.join(dir, 'g.json'), '--preds', path.join(dir, 'p.json'), '--per-example']);
    const j = JSON.parse(r.out);
    expect(j['rouge-1']).toBeCloseTo(2 / 3, 12);
    expect(j.examples[0]).toMatchObject({ id: '1', 'rouge-2': 0.5 });
  });

  test.each([
    [['generate', '--model', '/nope', '--prompt-ids', '1'], /\/nope\/config.json: file not found/],
    [['forward', '--model', '/nope', '--ids', '1,x'], /--ids: expected comma-separated non-negative integers, got "1,x"/],
    [['eval', '--task', 'LaMP_9', '--golds', 'a', '--preds', 'b'], /--task: unknown "LaMP_9"/],
    [['tokenize', '--tokenizer', '/nope', '--text', 'x'], /\/nope\/tokenizer.json: file not found/],
    [['forward', '--model', '/nope', '--ids', '1', '--threads', '0'], /--threads: expected a positive integer, got "0"/],
    [['merge-adapter', '--model', '/nope', '--adapter', '/a', '--out', '/nope/'], /--out: \/nope\/ is the --model folder/],
    [['merge-adapter', '--model', '/nope', '--adapter', '/a', '--out', '/o', '--dtype', 'f16'], /--dtype: expected f32 or bf16, got "f16"/],
    [['forward', '--model', '/nope', '--ids', '1', '--base-adapter', '/a'], /\/nope\/config.json: file not found/],
    [['run', '--threads', '1.5', '--run', '/nope'], /command-line flags: threads: .*expected int/],
    [['generate', '--model', '/nope', '--prompt-ids', '1', '--task', 'news_headline'], /--task shapes prompt text; give --prompt or --prompts-file \(not --prompt-ids\)/],
    [['generate', '--model', '/nope', '--prompt-ids', '1', '--prompt', 'x'], /give one of --prompt, --prompt-ids or --prompts-file/],
    [['generate', '--model', '/nope', '--prompts-file', 'p.jsonl', '--stream'], /--stream shows one generation/],
    [['generate', '--model', '/nope', '--prompt', 'x', '--system', 'Be brief'], /--system needs --chat-template/],
    [['generate', '--model', '/nope', '--prompt', 'x', '--task', 'news_headline', '--system', 'Be brief'], /--system with --task: the task brings its own system prompt/],
    [['forward', '--model', fixture('models', 'tiny-llama'), '--ids', '1', '--backend', 'tensorflow'], /@tensorflow\/tfjs-node is not installed; install it next to @cope\/model, pinned to the tfjs-core in use: pnpm --filter @cope\/model add @tensorflow\/tfjs-node@4\.22\.0/],
  ])('%j fails with a clear one-line error', async (args, pattern) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(pattern as RegExp);
    expect(r.err).not.toMatch(/    at /);
  });
});
