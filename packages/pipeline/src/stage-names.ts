/** Per-user stages, in pipeline order. */
export const USER_STAGES = ['sft', 'negatives', 'score', 'dpo', 'decode'] as const;
export type UserStage = (typeof USER_STAGES)[number];

/** Every stage of the pipeline in dependency order: the task's TAM, the per-user stages, evaluation. */
export const STAGE_ORDER = ['tam', ...USER_STAGES, 'eval'] as const;
export type StageName = (typeof STAGE_ORDER)[number];
