import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Rng, fileExists, keyPath, parseProblem, readJsonIfPresent, sha256Hex, writeFileAtomic } from '@cope/core';

describe('Rng (xoshiro128**)', () => {
  test('from state [1, 2, 3, 4] gives the reference generator\'s first outputs', () => {
    // Blackman & Vigna's xoshiro128starstar.c, transcribed to Python and run from the same state.
    const r = new Rng([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => r.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  test('a saved state continues the same stream; floats in [0, 1); ints in range; normals about N(0, 1)', () => {
    const a = new Rng(7);
    a.next();
    const b = new Rng(a.state());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(Array.from({ length: 5 }, () => a.next()));
    const xs = Array.from({ length: 20000 }, () => a.next());
    expect(Math.min(...xs) >= 0 && Math.max(...xs) < 1).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => a.int(3)))).toEqual(new Set([0, 1, 2]));
    const ns = Array.from({ length: 20000 }, () => a.normal());
    const mean = ns.reduce((s, x) => s + x, 0) / ns.length;
    const sd = Math.sqrt(ns.reduce((s, x) => s + (x - mean) ** 2, 0) / ns.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
    expect(() => new Rng([1, 2])).toThrow(/4 words/);
  });
});

describe('files', () => {
  test('writeFileAtomic writes the whole content and leaves no temp file; readJsonIfPresent reads, or names the file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cope-core-'));
    const file = path.join(dir, 'sub', 'a.json');
    await writeFileAtomic(file, '{"a": 1}');
    await writeFileAtomic(file, '{"a": 2}');
    expect(readFileSync(file, 'utf8')).toBe('{"a": 2}');
    expect(readdirSync(path.dirname(file))).toEqual(['a.json']);
    expect(await fileExists(file)).toBe(true);
    expect(await readJsonIfPresent(file)).toEqual({ a: 2 });
    expect(await readJsonIfPresent(path.join(dir, 'none.json'))).toBeUndefined();
    writeFileSync(path.join(dir, 'bad.json'), '{nope');
    await expect(readJsonIfPresent(path.join(dir, 'bad.json'))).rejects.toThrow(new RegExp(`${path.join(dir, 'bad.json')}: not valid JSON`));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('settings errors', () => {
  test('key paths and the one message format', () => {
    expect(keyPath(['users', 3, 'profile', 0, 'title'])).toBe('users[3].profile[0].title');
    expect(keyPath([])).toBe('(root)');
    expect(parseProblem('config.json', { issues: [{ path: ['rope_scaling', 'factor'], message: 'Too small' }] }, ' (expected > 0)')).toBe('config.json: rope_scaling.factor: Too small (expected > 0)');
  });
});

describe('sha256Hex', () => {
  test('the FIPS 180-2 vector and Node crypto agree, over parts and UTF-8 text', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const bytes = new Uint8Array(100_003).map((_, i) => (i * 31 + 7) & 255);
    const node = createHash('sha256').update('é ünï 日本').update(bytes).digest('hex');
    expect(sha256Hex('é ünï ', '日本', bytes)).toBe(node);
  });
});
