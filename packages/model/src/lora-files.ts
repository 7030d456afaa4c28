import path from 'node:path';
import { folderStore } from '@cope/core';
import type { LoraAdapter } from './lora-types.js';
import { readLoraAdapter, writeLoraAdapter } from './lora-store.js';
import type { CausalLM } from './weights.js';

/** Saves in PEFT's format into the folder `dir` ({@link writeLoraAdapter}). */
export async function saveLoraAdapter(adapter: LoraAdapter, dir: string): Promise<void> {
  await writeLoraAdapter(folderStore(dir), adapter);
}

/** Loads a PEFT LoRA adapter folder for `model` ({@link readLoraAdapter}). */
export async function loadLoraAdapter(model: CausalLM, dir: string, name = path.basename(dir)): Promise<LoraAdapter> {
  return readLoraAdapter(folderStore(dir), model, name);
}
