import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '#testing/temp';

/**
 * The wasm backend's threaded build (tfjs's, run under Node by the project's patch in patches/) against
 * its single-threaded build (the default, which the rest of the suite runs), in child processes: a
 * backend's thread count is fixed when it starts.
 */
interface ChildResult {
  threads: number;
  logits: string;
  gradients: string[];
  step: string;
  bigProduct: string;
  bigGradient: string;
  splitProducts: number;
  tmpAfterInit: string[];
  laterRequest: { threads: number; warnings: string[] };
}

function run(threads: number): ChildResult {
  const child = path.join(__dirname, 'threads', 'child.mjs');
  // A temporary folder of its own, to see what the threaded build leaves there.
  const tmp = tempDir('cope-threads-');
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  delete env.COPE_THREADS;
  // A process that does not exit by itself (threads keeping it alive) fails on the timeout.
  const r = spawnSync(process.execPath, [child, String(threads)], { encoding: 'utf8', env, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`child with ${threads} threads: status ${r.status} ${r.signal ?? ''}\n${r.stderr}`);
  expect(readdirSync(tmp)).toEqual([]);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('wasm backend threads', () => {
  test('two threads give bitwise the single-threaded logits, LoRA gradients, cached decoding steps and split frozen products; a later request keeps the running backend and warns; the process exits by itself', () => {
    const one = run(1);
    const two = run(2);
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect(two.logits).toBe(one.logits);
    expect(two.gradients).toEqual(one.gradients);
    expect(two.gradients.length).toBe(16);
    expect(two.step).toBe(one.step);
    // The rows kernel's helper threads split the large product and its gradient (the product again, then the
    // one with Wᵀ) on two threads only.
    expect(two.bigProduct).toBe(one.bigProduct);
    expect(two.bigGradient).toBe(one.bigGradient);
    expect(one.splitProducts).toBe(0);
    expect(two.splitProducts).toBe(3);
    expect(two.tmpAfterInit).toEqual([]);
    expect(two.laterRequest).toEqual({ threads: 2, warnings: [expect.stringMatching(/started with threads 2; threads 3 ignored/)] });
    expect(one.laterRequest).toEqual({ threads: 1, warnings: [expect.stringMatching(/started with threads 1; threads 3 ignored/)] });
  }, 240_000);
});
