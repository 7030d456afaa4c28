import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { evaluateLamp, evaluateLampFiles } from '@cope/metrics';
import { tempDir } from '#testing/temp';

const golds = { task: 'LaMP_4', golds: [{ id: 'a', output: 'the cat sat' }, { id: 'b', output: 'storm shuts schools' }] };

describe('LaMP evaluation', () => {
  test('deterministic means of per-example F over stripped texts', () => {
    const preds = { task: 'LaMP_4', golds: [{ id: 'b', output: '  storm closes schools ' }, { id: 'a', output: 'the cat sat' }] };
    const r = evaluateLamp('LaMP_4', golds, preds, { perExample: true });
    // a: identical → 1; b: 2 of 3 unigrams → P = R = F = 2/3; LCS 2 → 2/3.
    expect(r['rouge-1']).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(r['rouge-L']).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(r.examples!.find((e) => e.id === 'b')!['rouge-2']).toBeCloseTo(0, 12);
    // METEOR of an identical 3-token pair: P = R = 1, one chunk: 1 − 0.5·(1/3)³.
    expect(r.examples!.find((e) => e.id === 'a')!.meteor).toBeCloseTo(1 - 0.5 / 27, 12);
  });

  test('task and id mismatches are clear errors listing the ids', () => {
    expect(() => evaluateLamp('LaMP_5', golds, golds)).toThrow(/golds: task is "LaMP_4", expected "LaMP_5"/);
    const preds = { task: 'LaMP_4', golds: [{ id: 'a', output: 'x' }, { id: 'z', output: 'y' }] };
    expect(() => evaluateLamp('LaMP_4', golds, preds, { predsFile: 'p.json', goldsFile: 'g.json' })).toThrow(/p.json does not cover the ids of g.json: missing b; extra z/);
    expect(() => evaluateLamp('LaMP_9' as any, golds, golds)).toThrow(/Unknown task "LaMP_9"/);
  });

  test('writes results into the output file as the reference script does', async () => {
    const dir = tempDir('cope-eval-');
    const g = path.join(dir, 'g.json');
    const p = path.join(dir, 'p.json');
    writeFileSync(g, JSON.stringify(golds));
    writeFileSync(p, JSON.stringify({ ...golds, model: 'x' }));
    const r = await evaluateLampFiles('LaMP_4', g, p, { outputFile: p });
    expect(r['rouge-1']).toBe(1);
    const written = JSON.parse(readFileSync(p, 'utf8'));
    expect(written.results).toEqual({ 'rouge-1': 1, 'rouge-L': 1, meteor: expect.closeTo(1 - 0.5 / 27, 12) }); // two identical 3-token pairs
    expect(written.model).toBe('x');
    await expect(evaluateLampFiles('LaMP_4', path.join(dir, 'nope.json'), p)).rejects.toThrow(/nope.json: file not found/);
  });
});
