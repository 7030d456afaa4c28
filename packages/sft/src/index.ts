/**
 * @cope/sft — the pieces of CoPe's supervised fine-tuning: AdamW, the linear warm-up schedule,
 * global-norm clipping and the target-only cross-entropy.
 */
export { AdamW, type AdamWConfig, type AdamWState } from './adamw.js';
export { linearWarmupLr } from './schedule.js';
export { clipByGlobalNorm } from './clip.js';
export { maskedCrossEntropy } from './loss.js';
export { sftConfigSchema, resolveSftConfig, withSftPreset, SFT_PRESETS, type SftConfig } from './config.js';
export { trainLora, trainFull, trainingFinished, type TrainOptions, type TrainResult, type FullTrainResult, type StepLog, type BatchLoss, type BatchGradients, type BatchGradientsFn, tapedGradients } from './trainer.js';
