/**
 * @cope/model in a browser: everything of the Node entry but what reads or writes files and the Node backends.
 * Models and adapters come from bytes ({@link modelFromBytes}, {@link loraAdapterFromBytes}; a trained adapter
 * downloads as {@link loraAdapterToBytes}' two files), and {@link initBrowserBackend} starts the wasm backend with its
 * binaries fetched from a URL. Bundlers pick this entry through the package's `browser` export condition.
 */
export { tf } from './tf.js';
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable } from './tf.js';
export { initBrowserBackend, type BrowserBackendOptions } from './browser-backend.js';
export { backendThreads, wasmHeapBytes, heapExhaustionNote } from './wasm/runtime.js';
export { parseSafetensors, serializeSafetensors, SafetensorsError, type HostTensor } from './safetensors.js';
export { f16ToF32, bf16ToF32, f32ToBf16 } from './dtype.js';
export { parseModelConfig, type ModelConfig, type Llama3RopeScaling } from './config.js';
export {
  PROJECTIONS, projectionPath, projectionShape, weightsFromHost, weightsToHost, modelTensors, disposeModel, trainableModel,
  type ProjectionName, type Linear, type LayerWeights, type ModelWeights, type CausalLM,
} from './weights.js';
export { modelFromBytes, modelToBytes, readModel, writeModel } from './model-bytes.js';
export { parseGenerationConfig, stopTokenIdsOf, type GenerationConfig } from './generation-config.js';
export { forward, type ForwardOptions, type ForwardResult, type AdapterChoice } from './transformer.js';
export { concatCacheRows, disposeCache, selectCacheRows, type KvCache, type LayerCache } from './kv-cache.js';
export { openDecodeState, type DecodeState, type DecodeStateOptions } from './decode-state.js';
export { type LoraAdapter, type LoraConfig, type LoraPair } from './lora-types.js';
export {
  createLoraAdapter, adapterVariables, disposeAdapter, loraAdapterFromBytes, loraAdapterToBytes, mergeLoraAdapter, peftKey,
} from './lora.js';
export { readLoraAdapter, writeLoraAdapter, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from './lora-store.js';
export { sequenceLogProbs, completionLogProbSums, tokenLogProbs, type PromptCompletion, type SequenceLogProbs } from './logprobs.js';
export { ropeInvFreq } from './rope.js';
export { opsFor, registerOps } from './ops/select.js';
export { tfOps } from './ops/tf-ops.js';
export type { Ops, QueryBias, DecodeSession, DecodeSessionInput } from './ops/ops.js';
