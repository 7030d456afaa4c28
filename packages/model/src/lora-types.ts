import type { Variable } from './tf.js';
import type { ProjectionName } from './weights.js';

/** LoRA hyper-parameters, named as in PEFT's `LoraConfig`. */
export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  targetModules: ProjectionName[];
  /** rsLoRA scales by alpha / sqrt(r) instead of alpha / r. */
  useRslora: boolean;
  /** `base_model_name_or_path` as written into adapter_config.json. */
  baseModelName?: string;
}

/** One adapted projection: A in kernel layout [in, r] and B [r, out] (PEFT stores [r, in] and [out, r]). */
export interface LoraPair {
  a: Variable;
  b: Variable;
}

/** A named LoRA adapter over a model: per layer, the adapted projections. */
export interface LoraAdapter {
  name: string;
  config: LoraConfig;
  layers: Array<Partial<Record<ProjectionName, LoraPair>>>;
  /** sha256 over the adapter folder's config and tensor bytes, when loaded from one. */
  fingerprint?: string;
}

/** The factor LoRA's update is multiplied by. */
export function loraScale(c: LoraConfig): number {
  return c.useRslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r;
}
