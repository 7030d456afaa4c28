import path from 'node:path';
import { writeFileAtomic } from '@cope/core';
import { toHfConfig } from './config.js';
import { writeSafetensors } from './safetensors.js';
import { weightsToHost, type CausalLM } from './weights.js';

/** Saves a model as a Hugging Face folder: `config.json` and `model.safetensors` (F32 or BF16), atomically. */
export async function saveModel(model: CausalLM, dir: string, opts: { dtype?: 'F32' | 'BF16' } = {}): Promise<void> {
  const host = await weightsToHost(model);
  await writeSafetensors(path.join(dir, 'model.safetensors'), host, { dtype: opts.dtype, metadata: { format: 'pt' } });
  await writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(toHfConfig(model.config), null, 2) + '\n');
}
