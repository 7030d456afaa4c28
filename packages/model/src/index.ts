/**
 * @cope/model — a Llama-family decoder-only transformer on tfjs, loading Hugging Face folders,
 * with PEFT-compatible LoRA adapters, a KV cache and sequence log-probs.
 */
export { tf } from './tf.js';
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable } from './tf.js';
export { initBackend, currentBackend, backendChoiceNote, AUTO_NATIVE_MODEL_BYTES, backendThreads, wasmHeapBytes, heapExhaustionNote, BACKENDS, type BackendName, type BackendChoice, type BackendOptions } from './backend.js';
export {
  parseSafetensors, serializeSafetensors, readSafetensors, writeSafetensors, readModelWeights, modelFloat32Bytes,
  SafetensorsError, type HostTensor,
} from './safetensors.js';
export { f16ToF32, bf16ToF32, f32ToBf16 } from './dtype.js';
export { parseModelConfig, readModelConfig, type ModelConfig, type Llama3RopeScaling } from './config.js';
export {
  PROJECTIONS, projectionPath, projectionShape, weightsFromHost, weightsToHost, modelTensors, disposeModel, trainableModel,
  type ProjectionName, type Linear, type LayerWeights, type ModelWeights, type CausalLM,
} from './weights.js';
export { loadModel, type LoadModelOptions } from './load.js';
export { modelFromBytes } from './model-bytes.js';
export { readGenerationConfig, stopTokenIds, type GenerationConfig } from './generation-config.js';
export { saveModel } from './save.js';
export { forward, type ForwardOptions, type ForwardResult, type AdapterChoice } from './transformer.js';
export { concatCacheRows, disposeCache, selectCacheRows, type KvCache, type LayerCache } from './kv-cache.js';
export { type LoraAdapter, type LoraConfig, type LoraPair } from './lora-types.js';
export {
  createLoraAdapter, adapterVariables, disposeAdapter, saveLoraAdapter, loadLoraAdapter, loraAdapterFromBytes, loraAdapterToBytes,
  mergeLoraAdapter, peftKey,
} from './lora.js';
export { sequenceLogProbs, completionLogProbSums, tokenLogProbs, type PromptCompletion, type SequenceLogProbs } from './logprobs.js';
export { ropeInvFreq } from './rope.js';
export { opsFor, registerOps } from './ops/select.js';
export { tfOps } from './ops/tf-ops.js';
export type { Ops, QueryBias } from './ops/ops.js';
