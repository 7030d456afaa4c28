import { parseProblem } from '@cope/core';
import { z } from 'zod';

const projection = z.enum(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);

/** SFT settings, validated at the boundary (unknown keys refused). Defaults follow CoPe's scripts and HF Trainer (sources inline). */
export const sftConfigSchema = z.strictObject({
  /** `--learning_rate 1e-4` (TAM.py, OPPU_sft.py). */
  learningRate: z.number().positive().default(1e-4),
  /** `--max_epoch`: 3 for TAM, 2 for OPPU. */
  epochs: z.number().int().positive().default(2),
  /** `--batch_size`: 8 for TAM, 4 for OPPU. */
  batchSize: z.number().int().positive().default(4),
  /** HF Trainer `gradient_accumulation_steps` (CoPe: 1). */
  gradientAccumulation: z.number().int().positive().default(1),
  /** HF Trainer `warmup_ratio` as CoPe passes it. */
  warmupRatio: z.number().min(0).max(1).default(0.1),
  /** `max_grad_norm` 0.3. */
  maxGradNorm: z.number().positive().default(0.3),
  /** `weight_decay` 0.01. */
  weightDecay: z.number().min(0).default(0.01),
  /** `set_seed(42)`. */
  seed: z.number().int().default(42),
  /** Write a resumable checkpoint every N optimiser steps (0: only at the end). */
  checkpointEvery: z.number().int().min(0).default(50),
  lora: z
    .strictObject({
      /** OPPU `--r 8` (TAM uses 16). */
      r: z.number().int().positive().default(8),
      /** OPPU `--alpha 8` (TAM 16). */
      alpha: z.number().positive().default(8),
      /** LoraConfig dropout 0.05 in both scripts. */
      dropout: z.number().min(0).lt(1).default(0.05),
      /** OPPU targets q/v; TAM q/k/v/o. */
      targetModules: z.array(projection).nonempty().default(['q_proj', 'v_proj']),
    })
    .default({ r: 8, alpha: 8, dropout: 0.05, targetModules: ['q_proj', 'v_proj'] }),
});

export type SftConfig = z.infer<typeof sftConfigSchema>;

/** CoPe's presets (scripts/TAM.py and scripts/OPPU_sft.py). */
export const SFT_PRESETS = {
  /** TAM.py: r 16, alpha 16 on q/k/v/o, lr 1e-4, 3 epochs, batch 8. */
  tam: { learningRate: 1e-4, epochs: 3, batchSize: 8, lora: { r: 16, alpha: 16, dropout: 0.05, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] } },
  /** OPPU_sft.py: r 8, alpha 8 on q/v, lr 1e-4, 2 epochs, batch 4. */
  oppu: { learningRate: 1e-4, epochs: 2, batchSize: 4, lora: { r: 8, alpha: 8, dropout: 0.05, targetModules: ['q_proj', 'v_proj'] } },
} as const;

/** A preset with `overrides` over it, key by key (the LoRA settings too): the input {@link sftConfigSchema} validates. */
export function withSftPreset(preset: keyof typeof SFT_PRESETS | null, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = preset ? SFT_PRESETS[preset] : {};
  const lora = overrides.lora;
  return { ...base, ...overrides, lora: typeof lora === 'object' && lora !== null && !Array.isArray(lora) ? { ...(base as { lora?: object }).lora, ...lora } : lora ?? (base as { lora?: object }).lora };
}

/** Resolves a preset plus overrides into a validated config; errors name the field. */
export function resolveSftConfig(preset: keyof typeof SFT_PRESETS | null, overrides: Record<string, unknown> = {}): SftConfig {
  const r = sftConfigSchema.safeParse(withSftPreset(preset, overrides));
  if (!r.success) throw new Error(parseProblem('sft config', r.error));
  return r.data;
}
