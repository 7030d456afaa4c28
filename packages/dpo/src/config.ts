import { parseProblem } from '@cope/core';
import { z } from 'zod';
import { sftConfigSchema, type SftConfig } from '@cope/sft';

/**
 * DPO settings (CoPe's scripts/OPPU_sft+dpo.py --is_train / trl 0.13 DPOConfig): the SFT trainer's settings
 * (warm-up 0.1, clip 0.3, weight decay 0.01, accumulation, seed, checkpoints) with DPO's own defaults and
 * the DPO loss parameters.
 */
export const dpoConfigSchema = sftConfigSchema.omit({ lora: true }).extend({
  /** `--learning_rate 5e-6`. */
  learningRate: z.number().positive().default(5e-6),
  /** `--max_epoch 1`. */
  epochs: z.number().int().positive().default(1),
  /** `--batch_size 8`. */
  batchSize: z.number().int().positive().default(8),
  /** `--dpo_beta 0.01`. */
  beta: z.number().positive().default(0.01),
  /** trl default `sigmoid`. */
  lossType: z.enum(['sigmoid', 'ipo', 'hinge']).default('sigmoid'),
  /** trl default 0. */
  labelSmoothing: z.number().min(0).max(0.5).default(0),
  /**
   * Each completion of a batch in its own forward and backward pass instead of one tape over them all: the
   * activations of one sequence at a time (a 1.5B model's 512-token pair does not fit 24 GiB together). Not in
   * trl; off by default (dropout masks then differ from the batched pass).
   */
  separateBackward: z.boolean().default(false),
});

export type DpoConfig = z.infer<typeof dpoConfigSchema>;

export function resolveDpoConfig(overrides: Record<string, unknown> = {}): DpoConfig {
  const r = dpoConfigSchema.safeParse(overrides);
  if (!r.success) throw new Error(parseProblem('dpo config', r.error));
  return r.data;
}

/** The trainer settings of a DPO config (the LoRA shape comes from the adapter being trained). */
export function asTrainerConfig(c: DpoConfig, dropout: number): SftConfig {
  const { beta: _b, lossType: _l, labelSmoothing: _s, separateBackward: _sb, ...trainer } = c;
  return { ...trainer, lora: { r: 8, alpha: 8, dropout, targetModules: ['q_proj', 'v_proj'] } };
}
