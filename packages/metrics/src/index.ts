/**
 * @cope/metrics — ROUGE and METEOR as the Python packages behind LaMP's evaluation compute them, and
 * LaMP/LongLaMP evaluation files. No tfjs dependency.
 */
export { rougeTokenize } from './tokenize.js';
export { rouge, rougeL, rougeLsum, type Prf, type RougeScores, type RougeOptions } from './rouge.js';
export {
  evaluateLamp, evaluateLampFiles, meanScores, EvaluationError, LAMP_TASK_IDS,
  type LampTaskId, type LampResults, type ExampleScores, type OutputFile,
} from './lamp.js';
export { porterStem } from './porter.js';
export { wordTokenize } from './word-tokenize.js';
export { WordNet } from './wordnet.js';
export { meteor, type MeteorOptions } from './meteor.js';
