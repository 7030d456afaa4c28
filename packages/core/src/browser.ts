/**
 * @cope/core in a browser: everything but the file helpers (`writeFileAtomic`, `fileExists`, `readJsonIfPresent`, `folderStore`),
 * which need Node's file system. Bundlers pick this entry through the package's `browser` export condition.
 */
export { Rng } from './rng.js';
export { SEEDS } from './seeds.js';
export { sha256Hex } from './sha256.js';
export { base64ToBytes } from './base64.js';
export { memoryStore, readText, type FileStore } from './file-store.js';
export { keyPath, parseProblem, type ParseIssues } from './zod-errors.js';
