import { type Rng } from '@cope/core';
import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixture } from '#testing';
import { forward, initBackend, disposeCache, readSafetensors, tf, writeSafetensors, type AdapterChoice, type CausalLM, type KvCache } from '@cope/model';

/** Whether the active backend is wasm: the heap kernels' tests run there only (CI's backend). */
export const onWasm = (): boolean => tf.getBackend() === 'wasm';

/** A float32 tensor of `shape` with standard-normal values (times `scale`) drawn from `rng`. */
export const normalTensor = (shape: number[], rng: Rng, scale = 1): tf.Tensor =>
  tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale), shape);

/** A typed array's own bytes (a backend may hand out a view of a larger pooled buffer). */
export const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/** A float32 tensor's bytes, for bit-for-bit comparisons. */
export const bits = (t: tf.Tensor): Buffer => bytesOf(t.dataSync() as Float32Array);

export async function setupBackend(): Promise<void> {
  await initBackend(process.env.COPE_BACKEND ?? 'wasm');
}

/** Greedy continuation with the KV cache, one token per step (a minimal loop for parity checks). */
export async function greedyCached(model: CausalLM, prompt: number[], n: number, adapters?: AdapterChoice): Promise<number[]> {
  const out: number[] = [];
  let cache: KvCache | undefined;
  let input = [prompt];
  for (let i = 0; i < n; i++) {
    const r = forward(model, input, { cache, useCache: true, lastOnly: true, adapters });
    disposeCache(cache);
    cache = r.cache;
    const next = tf.tidy(() => tf.argMax(r.logits.reshape([-1])));
    const id = (await next.data())[0];
    next.dispose();
    r.logits.dispose();
    out.push(id);
    input = [[id]];
  }
  disposeCache(cache);
  return out;
}

/** Greedy continuation re-running the whole sequence each step (no cache). */
export async function greedyUncached(model: CausalLM, prompt: number[], n: number): Promise<number[]> {
  const seq = prompt.slice();
  for (let i = 0; i < n; i++) {
    const r = forward(model, [seq], { lastOnly: true });
    const next = tf.tidy(() => tf.argMax(r.logits.reshape([-1])));
    seq.push((await next.data())[0]);
    next.dispose();
    r.logits.dispose();
  }
  return seq.slice(prompt.length);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A temporary folder holding fixture model `name` with its weights written as BF16 (the caller removes it). */
export async function bf16Copy(name: string): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `cope-${name}-bf16-`));
  const source = fixture('models', name);
  copyFileSync(path.join(source, 'config.json'), path.join(dir, 'config.json'));
  await writeSafetensors(path.join(dir, 'model.safetensors'), await readSafetensors(path.join(source, 'model.safetensors')), { dtype: 'BF16' });
  return dir;
}
