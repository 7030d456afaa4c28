/**
 * @cope/core in a browser: everything but the file helpers (`writeFileAtomic`, `fileExists`, `readJsonIfPresent`),
 * which need Node's file system. Bundlers pick this entry through the package's `browser` export condition.
 */
export { Rng } from './rng.js';
export { SEEDS } from './seeds.js';
export { keyPath, parseProblem, type ParseIssues } from './zod-errors.js';
