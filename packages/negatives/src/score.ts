import type { ScoringMode, ScoringPair } from '@cope/data';
import { sequenceLogProbs, type CausalLM, type LoraAdapter } from '@cope/model';

export type { ScoringMode };
/** A candidate as the scorer reads it (@cope/data's TaskCodec makes them). */
export type ScoringInput = ScoringPair;

/**
 * Scores candidates under the user's adapter and the bare TAM model in one batch (user rows and TAM
 * rows side by side, per-row adapters), `batchSize` candidates at a time.
 */
export async function scoreCandidates(
  model: CausalLM,
  userAdapter: LoraAdapter,
  inputs: ScoringInput[],
  opts: { mode?: ScoringMode; eosTokenId?: number; batchSize?: number } = {},
): Promise<{ userScores: number[]; baseScores: number[] }> {
  const mode = opts.mode ?? 'completion';
  const bs = opts.batchSize ?? 8;
  const userScores: number[] = [];
  const baseScores: number[] = [];
  for (let i = 0; i < inputs.length; i += bs) {
    const chunk = inputs.slice(i, i + bs);
    const pairs = chunk.map((x) => (mode === 'completion' ? x : { prompt: x.prompt.slice(0, 1), completion: x.prompt.slice(1).concat(x.completion) }));
    const lp = await sequenceLogProbs(model, [...pairs, ...pairs], [...pairs.map(() => userAdapter), ...pairs.map(() => null)]);
    const score = (k: number): number => {
      if (mode === 'completion') return lp[k].mean;
      const labels = pairs[k % pairs.length].completion;
      const kept = lp[k].perToken.filter((_, t) => labels[t] !== opts.eosTokenId);
      return kept.length ? kept.reduce((a, b) => a + b, 0) / kept.length : 0;
    };
    for (let k = 0; k < chunk.length; k++) {
      userScores.push(score(k));
      baseScores.push(score(chunk.length + k));
    }
  }
  return { userScores, baseScores };
}
