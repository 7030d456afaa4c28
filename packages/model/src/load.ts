import { createHash } from 'node:crypto';
import { tf } from './tf.js';
import { readModelConfig } from './config-files.js';
import { readModelWeights } from './safetensors-files.js';
import { PROJECTIONS, weightsFromHost, type CausalLM } from './weights.js';

export interface LoadModelOptions {
  /**
   * `float32` (default): every weight widened to float32. `bf16`: BF16 projection and (untied) head weights stay
   * bf16, half the memory, widened on the fly by the native backend's products (a 7B model in 14.5 GB); for
   * inference on the native backend only (training, merging and saving need float32 weights).
   */
  weights?: 'float32' | 'bf16';
}

/** Weights kept in bf16 with `weights: 'bf16'`: the layers' projections and an untied head. */
const KEPT_BF16 = new RegExp(`^(model\\.layers\\.\\d+\\.(self_attn|mlp)\\.(${PROJECTIONS.join('|')})\\.weight|lm_head\\.weight)$`);

/**
 * Loads a Hugging Face model folder (`config.json` + `model.safetensors` or a sharded index) from
 * local disk, tensor by tensor. Weights in F16/BF16 are widened to float32 unless `weights: 'bf16'`.
 */
export async function loadModel(dir: string, opts: LoadModelOptions = {}): Promise<CausalLM> {
  const keep = opts.weights === 'bf16';
  if (keep && tf.getBackend() !== 'native') throw new Error(`${dir}: weights 'bf16' run on the native backend only (active backend: ${tf.getBackend()}); initBackend('native') first`);
  const config = await readModelConfig(dir);
  const hash = createHash('sha256').update(JSON.stringify(config));
  const host = await readModelWeights(dir, { hash, keepBf16: keep ? (name, shape) => KEPT_BF16.test(name) && shape.length === 2 : undefined });
  return { config, weights: weightsFromHost(config, host, dir, { consume: true }), fingerprint: hash.digest('hex') };
}
