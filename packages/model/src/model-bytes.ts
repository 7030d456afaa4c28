import { parseModelConfig } from './config.js';
import { parseSafetensors } from './safetensors.js';
import { weightsFromHost, type CausalLM } from './weights.js';

/** The SHA-256 of the parts' bytes one after the other, in hex (WebCrypto: the same in Node and in browsers). */
export async function sha256Hex(parts: Uint8Array[]): Promise<string> {
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
  const fingerprint = await sha256Hex([new TextEncoder().encode(JSON.stringify(config)), safetensors]);
  return { config, weights: weightsFromHost(config, tensors, source, { consume: true }), fingerprint };
}
