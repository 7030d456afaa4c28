/**
 * @cope/data in a browser: tokenizers from JSON (`tokenizerFromJson`), chat templates, the five tasks, data
 * validation of fetched or pasted content, example building and the task codec; no file readers. Bundlers pick this
 * entry through the package's `browser` export condition.
 */
export { CopeTokenizer, tokenizerFromJson, type EncodeOptions, type DecodeOptions } from './tokenizer.js';
export {
  CHAT_PRESETS, CHAT_TEMPLATE_CHOICES, ChatFormatter, renderChatTemplate,
  type ChatMessage, type ChatPresetName, type ChatTemplateChoice,
} from './chat.js';
export { TASKS, TASK_NAMES, getTask, extractOutput, pythonStrip, firstKWords, type TaskSpec, type TaskName, type LampTaskId, type ProfileItem } from './tasks.js';
export {
  DataValidationError, decodeUtf8, validateUsers, validateLabels, validateOtherUsers, validateTargetUsers, validateUsersWithNegatives, validateUserPart,
  checkQueryIdsMatchLabels, userKey, type UserRecord, type Query, type ProfileRecord, type LabelFile,
} from './dataset.js';
export {
  OUTPUT_TEXT_MODES, outputText, type OutputTextMode, encodeTurn, tamTurns, oppuTurns, encodeDpoTriple, padBatch,
  type SftExample, type ChatTurn, type DpoTriple, type PaddedBatch,
} from './examples.js';
export { TaskCodec, type ScoringMode, type ScoringPair } from './task-codec.js';
