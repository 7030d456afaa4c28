/**
 * @cope/core — what every cope-ts package shares and no model needs: the seeded random number generator passed
 * down explicitly, atomic file writes, JSON reading, and the one format of settings and file errors.
 */
export { Rng } from './rng.js';
export { writeFileAtomic, fileExists } from './atomic.js';
export { readJsonIfPresent } from './json-file.js';
export { SEEDS } from './seeds.js';
export { keyPath, parseProblem, type ParseIssues } from './zod-errors.js';
