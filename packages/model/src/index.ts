/**
 * @cope/model — a Llama-family decoder-only transformer on tfjs, loading Hugging Face folders,
 * with PEFT-compatible LoRA adapters, a KV cache and sequence log-probs. Everything of the browser entry
 * (src/browser.ts), plus file readers and writers and the Node backends.
 */
export * from './browser.js';
export { initBackend, currentBackend, backendChoiceNote, AUTO_NATIVE_MODEL_BYTES, BACKENDS, type BackendName, type BackendChoice, type BackendOptions } from './backend.js';
export { readSafetensors, writeSafetensors, readModelWeights, modelFloat32Bytes } from './safetensors-files.js';
export { readModelConfig, readGenerationConfig, stopTokenIds } from './config-files.js';
export { loadModel, type LoadModelOptions } from './load.js';
export { saveModel } from './save.js';
export { saveLoraAdapter, loadLoraAdapter } from './lora-files.js';
