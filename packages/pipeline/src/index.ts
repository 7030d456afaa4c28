/**
 * @cope/pipeline — the CoPe method: its decoding methods as data, its stages as functions of (task context, user),
 * and the run folder they share (RunStore: layout, lock, stage settings, manifest, parts).
 */
export { runConfigSchema, samplingRunsSchema, checkRunConfig, type RunConfig } from './config.js';
export type { SettingIssue } from './config-issues.js';
export { METHODS, METHOD_NAMES, methodOf, decodeOutputs, type Method, type MethodSpec, type DecodeOutput } from './methods.js';
export { USER_STAGES, STAGE_ORDER, type UserStage, type StageName } from './stage-names.js';
export { RunStore, TaskStore, type RunLock } from './run-store.js';
export type { TaskLayout } from './store/layout.js';
export { openTask, closeTask, tamModel, type StageContext, type TaskData } from './context.js';
export { runTam, runUserStage, USER_STAGE_FNS, type UserStageFn } from './stages/index.js';
export { assembleOutputs } from './assemble.js';
export { evaluateOutputs, type MethodResult, type Scores } from './evaluate.js';
export { runPipeline, type RunOptions, type RunSummary } from './run.js';
export type { Reporter, PipelineEvent } from './events.js';
