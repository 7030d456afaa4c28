/** @cope/negatives — implicit-reward scoring of pseudo-negative candidates and their selection. */
export { selectNegative, type SelectionMode, type CandidateScores, type Selection } from './select.js';
export { scoreCandidates, type ScoringMode, type ScoringInput } from './score.js';
export {
  sampleUserNegatives, scoreUserNegatives,
  type TaskContext, type SamplingOptions, type ScoredUser,
} from './pipeline.js';
