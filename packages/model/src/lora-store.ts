import { readText, type FileStore } from '@cope/core';
import { loraAdapterFromBytes, loraAdapterToBytes } from './lora.js';
import type { LoraAdapter } from './lora-types.js';
import { SafetensorsError } from './safetensors.js';
import type { CausalLM } from './weights.js';

/** A PEFT adapter folder's two files. */
export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';

/**
 * Writes an adapter in PEFT's format ({@link loraAdapterToBytes}) into `store` (under `prefix`, e.g. `checkpoint/`):
 * the weights first, then the config, each atomically.
 */
export async function writeLoraAdapter(store: FileStore, adapter: LoraAdapter, prefix = ''): Promise<void> {
  const { config, safetensors } = await loraAdapterToBytes(adapter);
  await store.write(prefix + PEFT_WEIGHTS_FILE, safetensors);
  await store.write(prefix + PEFT_CONFIG_FILE, JSON.stringify(config, null, 2) + '\n');
}

/** Reads a PEFT adapter for `model` from `store` (under `prefix`): {@link loraAdapterFromBytes} of its two files. */
export async function readLoraAdapter(store: FileStore, model: CausalLM, name: string, prefix = ''): Promise<LoraAdapter> {
  const configFile = `${store.location}/${prefix}${PEFT_CONFIG_FILE}`;
  const weightsFile = `${store.location}/${prefix}${PEFT_WEIGHTS_FILE}`;
  let raw: unknown;
  try {
    const text = await readText(store, prefix + PEFT_CONFIG_FILE);
    if (text === null) throw new Error('file not found');
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${configFile}: cannot read adapter config (${(e as Error).message})`);
  }
  let bytes: Uint8Array | null;
  try {
    bytes = await store.read(prefix + PEFT_WEIGHTS_FILE);
  } catch (e) {
    throw new SafetensorsError(weightsFile, `cannot read file (${(e as Error).message})`);
  }
  if (bytes === null) throw new SafetensorsError(weightsFile, 'cannot read file (ENOENT)');
  return loraAdapterFromBytes(model, raw, bytes, name, { configFile, weightsFile });
}
