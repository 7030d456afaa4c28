/**
 * @cope/pipeline in a browser: the CoPe method for one user at a time (`personalizeUser`: OPPU, pseudo-negatives,
 * scoring, DPO, decoding) with its results in memory (`memoryResults`), the method's settings and its table of
 * methods; no run folders, tasks' TAM training or evaluation, which read and write files. Bundlers pick this entry
 * through the package's `browser` export condition.
 */
export { methodSettingsSchema, samplingRunsSchema, type MethodSettings } from './method-settings.js';
export { METHODS, METHOD_NAMES, methodOf, decodeOutputs, type Method, type MethodSpec, type DecodeOutput } from './methods.js';
export { USER_STAGES, STAGE_ORDER, type UserStage, type StageName } from './stage-names.js';
export { tamModel, negativesContext, type UserStageContext } from './user-context.js';
export { memoryResults, type UserResults, type UserPart, type AdapterStage } from './user-results.js';
export { runUserStage, personalizeUser, runOutputs, decodeQueries, USER_STAGE_FNS, type UserStageFn, type DecodeQueriesOptions } from './stages/user-stages.js';
export type { Reporter, PipelineEvent } from './events.js';
