/** Which candidate becomes the rejected answer (CoPe `compute_scores.py --std`). */
export type SelectionMode = 'max' | 'min';

export interface CandidateScores {
  /** Score of each candidate under the user's model (`OPPU_scores`). */
  userScores: number[];
  /** Score under the TAM model (`base_scores`). */
  baseScores: number[];
}

export interface Selection {
  /** `score_differences`: base − user per candidate, i.e. minus the implicit reward. */
  differences: number[];
  index: number;
  /** `final_score_difference`. */
  difference: number;
}

/**
 * `max` picks the largest base − user difference, the lowest implicit reward log π_user − log π_TAM
 * (the paper's "Best-of-N, lowest implicit reward"); `min` the smallest. Ties go to the first candidate.
 */
export function selectNegative(s: CandidateScores, mode: SelectionMode = 'max'): Selection {
  if (s.userScores.length !== s.baseScores.length) throw new Error(`selectNegative: ${s.userScores.length} user scores but ${s.baseScores.length} base scores`);
  if (s.userScores.length === 0) throw new Error('selectNegative: no candidates to select from');
  const differences = s.baseScores.map((b, i) => b - s.userScores[i]);
  let index = 0;
  for (let i = 1; i < differences.length; i++) {
    if (mode === 'max' ? differences[i] > differences[index] : differences[i] < differences[index]) index = i;
  }
  return { differences, index, difference: differences[index] };
}
