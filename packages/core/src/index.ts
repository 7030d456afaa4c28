/**
 * @cope/core — what every cope-ts package shares and no model needs: the seeded random number generator passed
 * down explicitly, atomic file writes, JSON reading, and the one format of settings and file errors. Everything of
 * the browser entry (src/browser.ts), plus the file helpers.
 */
export * from './browser.js';
export { writeFileAtomic, fileExists } from './atomic.js';
export { readJsonIfPresent } from './json-file.js';
export { folderStore } from './folder-store.js';
