import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeWithFixtures, fixture, readFixtureJson } from '#testing';
import { runCli } from '@cope/cli';
import { tempDir } from '#testing/temp';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n') });
  return { code, out, err };
}

describeWithFixtures('cope debug commands', ['models/tiny-llama/expected.json', 'models/stories260K/tokenizer.json'], () => {
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

  test('generate: greedy and contrastive ids equal the fixture', async () => {
    const e = readFixtureJson('models', 'tiny-llama', 'expected.json');
    const g = await run(['generate', '--model', fixture('models', 'tiny-llama'), '--prompt-ids', e.greedy.prompt.join(','), '--max-new-tokens', '10', '--backend', 'wasm']);
    expect(JSON.parse(g.out)).toEqual({ ids: e.greedy.expected });
    const c = e.contrastive[3];
    const r = await run(['generate', '--model', fixture('models', 'tiny-llama'), '--adapter', fixture('models', 'tiny-llama', 'adapter'), '--prompt-ids', c.prompt.join(','),
      '--max-new-tokens', String(c.new_tokens), '--decoding', 'contrastive', '--contrastive-alpha', String(c.lambda), '--masked', c.masked, '--repetition-penalty', String(c.repetition_penalty), '--backend', 'wasm']);
    expect(JSON.parse(r.out)).toEqual({ ids: c.expected });
  });

  test('tokenize follows the tokenizer config (BOS by default, none with --no-special)', async () => {
    const dir = fixture('models', 'stories260K');
    expect(JSON.parse((await run(['tokenize', '--tokenizer', dir, '--text', 'Once upon a time'])).out)).toEqual({ ids: [1, 403, 407, 261, 378] });
    expect(JSON.parse((await run(['tokenize', '--tokenizer', dir, '--text', 'Once upon a time', '--no-special'])).out)).toEqual({ ids: [403, 407, 261, 378] });
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
    [['run', '--threads', '1.5', '--run', '/nope'], /command-line flags: threads: .*expected int/],
  ])('%j fails with a clear one-line error', async (args, pattern) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(pattern as RegExp);
    expect(r.err).not.toMatch(/    at /);
  });
});
