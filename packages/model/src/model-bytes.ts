import { readText, type FileStore } from '@cope/core';
import { parseModelConfig, toHfConfig } from './config.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';
import { weightsFromHost, weightsToHost, type CausalLM } from './weights.js';

/** The SHA-256 of the parts' bytes one after the other, in hex (WebCrypto: the same in Node and in browsers). */
export async function digestSha256Hex(parts: Uint8Array[]): Promise<string> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  const digest = await globalThis.crypto.subtle.digest('SHA-256', all);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A model from bytes already in memory (fetched, or read from `File`s in a browser): `config.json`'s parsed content
 * and one `model.safetensors` file's bytes, F16/BF16 weights widened to float32. The same weights and fingerprint as
 * {@link loadModel} of a folder holding those two files. `source` names them in errors.
 */
export async function modelFromBytes(configJson: unknown, safetensors: Uint8Array, source = '<memory>'): Promise<CausalLM> {
  const config = parseModelConfig(configJson, `${source}/config.json`);
  const { tensors } = parseSafetensors(safetensors, `${source}/model.safetensors`);
  // As loadModel hashes: the parsed config's JSON, then every byte of the weights file.
  const fingerprint = await digestSha256Hex([new TextEncoder().encode(JSON.stringify(config)), safetensors]);
  return { config, weights: weightsFromHost(config, tensors, source, { consume: true }), fingerprint };
}

/** A Hugging Face model folder's two files as `saveModel` writes them: `config.json` and `model.safetensors`. */
export async function modelToBytes(model: CausalLM, opts: { dtype?: 'F32' | 'BF16' } = {}): Promise<{ config: Record<string, unknown>; safetensors: Uint8Array }> {
  const host = await weightsToHost(model);
  return { config: toHfConfig(model.config), safetensors: serializeSafetensors(host, { dtype: opts.dtype, metadata: { format: 'pt' } }) };
}

/** Writes a model's two files into `store` (under `prefix`), the weights first, each atomically. */
export async function writeModel(store: FileStore, model: CausalLM, prefix = '', opts: { dtype?: 'F32' | 'BF16' } = {}): Promise<void> {
  const { config, safetensors } = await modelToBytes(model, opts);
  await store.write(`${prefix}model.safetensors`, safetensors);
  await store.write(`${prefix}config.json`, JSON.stringify(config, null, 2) + '\n');
}

/** Reads a model that {@link writeModel} wrote into `store` (one `model.safetensors`, not a sharded folder). */
export async function readModel(store: FileStore, prefix = ''): Promise<CausalLM> {
  const source = `${store.location}/${prefix}`.replace(/\/$/, '');
  const config = await readText(store, `${prefix}config.json`);
  const weights = await store.read(`${prefix}model.safetensors`);
  if (config === null || weights === null) throw new Error(`${source}: no config.json and model.safetensors`);
  return modelFromBytes(JSON.parse(config), weights, source);
}
