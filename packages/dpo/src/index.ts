/** @cope/dpo — per-user DPO with the TAM model as reference: losses (sigmoid, ipo, hinge). */
export { dpoLoss, DEFAULT_DPO_LOSS, type DpoLossConfig, type DpoLossType, type DpoLossOutput } from './loss.js';
export { dpoConfigSchema, resolveDpoConfig, type DpoConfig } from './config.js';
export { trainDpo, referenceLogProbs, modelFingerprint, REFERENCE_FILE, type DpoExample, type DpoTrainOptions } from './trainer.js';
export { dpoGradients } from './gradients.js';
