/** @cope/dpo — per-user DPO with the TAM model as reference: losses (sigmoid, ipo, hinge). */
export { dpoLoss, DEFAULT_DPO_LOSS, type DpoLossConfig, type DpoLossType, type DpoLossOutput } from './loss.js';
