/**
 * @cope/data — tokenizers, chat templates, the five LaMP/LongLaMP tasks, validated data files and
 * example building.
 */
export { CopeTokenizer, loadTokenizer, type EncodeOptions, type DecodeOptions } from './tokenizer.js';
export {
  CHAT_PRESETS, CHAT_TEMPLATE_CHOICES, ChatFormatter, renderChatTemplate,
  type ChatMessage, type ChatPresetName, type ChatTemplateChoice,
} from './chat.js';
export { TASKS, TASK_NAMES, getTask, extractOutput, pythonStrip, firstKWords, type TaskSpec, type TaskName, type LampTaskId, type ProfileItem } from './tasks.js';
export {
  DataValidationError, decodeUtf8, validateUsers, validateLabels, readOtherUsers, readTargetUsers, readUsersWithNegatives, readUsersWithSelectedNegatives, readUserPart, userKey,
  type UserRecord, type Query, type ProfileRecord, type LabelFile,
} from './dataset.js';
export {
  OUTPUT_TEXT_MODES, outputText, type OutputTextMode, encodeTurn, tamTurns, oppuTurns, encodeDpoTriple, padBatch,
  type SftExample, type ChatTurn, type DpoTriple, type PaddedBatch,
} from './examples.js';
export { TaskCodec, type ScoringMode, type ScoringPair } from './task-codec.js';
