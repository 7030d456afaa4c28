import { folderStore } from '@cope/core';
import { writeModel } from './model-bytes.js';
import type { CausalLM } from './weights.js';

/** Saves a model as a Hugging Face folder: `config.json` and `model.safetensors` (F32 or BF16), atomically. */
export async function saveModel(model: CausalLM, dir: string, opts: { dtype?: 'F32' | 'BF16' } = {}): Promise<void> {
  await writeModel(folderStore(dir), model, '', opts);
}
