/**
 * @cope/pipeline — the CoPe method: its decoding methods as data, its stages as functions of (task context, user),
 * and the run folder they share (RunStore: layout, lock, stage settings, manifest, parts). Everything of the browser
 * entry (src/browser.ts), plus run folders, TAM training, evaluation and worker processes.
 */
export * from './browser.js';
export { runConfigSchema, checkRunConfig, type RunConfig } from './config.js';
export type { SettingIssue } from './config-issues.js';
export { RunStore, TaskStore, type RunLock } from './run-store.js';
export type { TaskLayout } from './store/layout.js';
export { openTask, closeTask, type StageContext, type TaskData } from './context.js';
export { runTam } from './stages/index.js';
export { assembleOutputs } from './assemble.js';
export { evaluateOutputs, type MethodResult, type Scores } from './evaluate.js';
export { runPipeline, type RunOptions, type RunSummary } from './run.js';
