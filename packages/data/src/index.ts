/**
 * @cope/data — tokenizers, chat templates, the five LaMP/LongLaMP tasks, validated data files and
 * example building. Everything of the browser entry (src/browser.ts), plus the readers of tokenizer and data files.
 */
export * from './browser.js';
export { loadTokenizer } from './tokenizer-files.js';
export { readOtherUsers, readTargetUsers, readUsersWithNegatives, readUsersWithSelectedNegatives, readUserPart } from './dataset-files.js';
