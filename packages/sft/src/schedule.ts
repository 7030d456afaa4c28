/**
 * transformers' `get_linear_schedule_with_warmup` with HF Trainer's warm-up steps
 * `ceil(warmupRatio · totalSteps)`: linear rise from 0, then linear decay to 0 at `totalSteps`.
 * @returns the learning rate used for optimiser step `step` (0-based).
 */
export function linearWarmupLr(baseLr: number, step: number, totalSteps: number, warmupRatio: number): number {
  const warmup = Math.ceil(warmupRatio * totalSteps);
  if (step < warmup) return (baseLr * step) / Math.max(1, warmup);
  return baseLr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
}
