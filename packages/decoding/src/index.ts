/**
 * @cope/decoding — logits processors, batched greedy / sampling generation with a KV cache, and CoPe
 * contrastive decoding with expert and amateur rows in one batch.
 */
export {
  temperature, topK, topP, repetitionPenalty, chain, softmax, logSoftmax, argmax, sampleIndex, type LogitsProcessor,
} from './processors.js';
export {
  plainDecoder, contrastiveDecoder, createDecoder, registerDecoder, samplingSettingsSchema, contrastiveSettingsSchema,
  type Decoder, type SamplingSettings, type ContrastiveSettings,
} from './strategies.js';
export { contrastiveScores, type ContrastiveMath } from './scores.js';
export { generate, type GenerateOptions, type GenerationResult } from './generate.js';
export { PromptCache } from './prompt-cache.js';
