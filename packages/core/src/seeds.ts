/**
 * The seeds of the pipeline's random streams, each derived from the run's seed and the stream's own indices, so
 * every stream is reproducible on its own (a resumed, sharded or worker-thread run draws the same numbers) and
 * streams of different users, runs or epochs differ. The one home of these formulas: changing one changes every
 * sampled output and adapter of a run.
 */
export const SEEDS = {
  /** Sampling a user's pseudo-negatives (@cope/negatives). */
  negatives: (seed: number, user: number): number => seed * 7919 + user,
  /** Decoding a user's queries; `run` numbers CoPe's `--is_sampling` runs (0 for greedy). */
  decoding: (seed: number, user: number, run = 0): number => seed * 7919 + user * 104729 + run,
  /** A user's OPPU and DPO trainers (adapter initialisation, dropout, example order). */
  user: (seed: number, user: number): number => seed + user,
  /** The order of a training epoch's examples (@cope/sft). */
  epochOrder: (seed: number, epoch: number): number => seed * 1000003 + epoch,
} as const;
