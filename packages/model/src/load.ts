import { createHash } from 'node:crypto';
import { readModelConfig } from './config.js';
import { readModelWeights } from './safetensors.js';
import { weightsFromHost, type CausalLM } from './weights.js';

/**
 * Loads a Hugging Face model folder (`config.json` + `model.safetensors` or a sharded index) from
 * local disk. Weights in F16/BF16 are widened to float32.
 */
export async function loadModel(dir: string): Promise<CausalLM> {
  const config = await readModelConfig(dir);
  const hash = createHash('sha256').update(JSON.stringify(config));
  const host = await readModelWeights(dir, { hash });
  return { config, weights: weightsFromHost(config, host, dir), fingerprint: hash.digest('hex') };
}
