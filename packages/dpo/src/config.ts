import { z } from 'zod';
import type { SftConfig } from '@cope/sft';

/** DPO settings (cope-reference.md §7, OPPU_sft+dpo.py / DPOConfig of trl 0.13). */
export const dpoConfigSchema = z.object({
  /** `--learning_rate 5e-6`. */
  learningRate: z.number().positive().default(5e-6),
  /** `--max_epoch 1`. */
  epochs: z.number().int().positive().default(1),
  /** `--batch_size 8`. */
  batchSize: z.number().int().positive().default(8),
  gradientAccumulation: z.number().int().positive().default(1),
  /** DPOConfig warmup_ratio 0.1, max_grad_norm 0.3, weight_decay 0.01. */
  warmupRatio: z.number().min(0).max(1).default(0.1),
  maxGradNorm: z.number().positive().default(0.3),
  weightDecay: z.number().min(0).default(0.01),
  /** `--dpo_beta 0.01`. */
  beta: z.number().positive().default(0.01),
  /** trl default `sigmoid`. */
  lossType: z.enum(['sigmoid', 'ipo', 'hinge']).default('sigmoid'),
  /** trl default 0. */
  labelSmoothing: z.number().min(0).max(0.5).default(0),
  seed: z.number().int().default(42),
  checkpointEvery: z.number().int().min(0).default(50),
});

export type DpoConfig = z.infer<typeof dpoConfigSchema>;

export function resolveDpoConfig(overrides: Record<string, unknown> = {}): DpoConfig {
  const r = dpoConfigSchema.safeParse(overrides);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`dpo config: ${i.path.join('.')}: ${i.message}`);
  }
  return r.data;
}

/** The trainer settings DPO shares with SFT (one optimiser, schedule and checkpoint implementation). */
export function asTrainerConfig(c: DpoConfig, dropout: number): SftConfig {
  return {
    learningRate: c.learningRate, epochs: c.epochs, batchSize: c.batchSize, gradientAccumulation: c.gradientAccumulation,
    warmupRatio: c.warmupRatio, maxGradNorm: c.maxGradNorm, weightDecay: c.weightDecay, seed: c.seed, checkpointEvery: c.checkpointEvery,
    lora: { r: 8, alpha: 8, dropout, targetModules: ['q_proj', 'v_proj'] },
  };
}
