/**
 * @cope/backend-native — a native CPU backend for tfjs: tfjs-backend-cpu's storage and kernels with the heavy
 * products on OpenBLAS through an N-API addon built at install time (no wasm heap ceiling).
 */
export { loadAddon, type NativeAddon } from './addon.js';
export { registerNativeBackend, nativeThreads, NATIVE_BACKEND } from './register.js';
export { DROPOUT_KERNEL, LOG_SOFTMAX_PICK_KERNEL, LOG_SOFTMAX_PICK_GRAD_KERNEL, RMS_NORM_KERNEL, SWIGLU_KERNEL, SCALED_ADD_KERNEL, RMS_NORM_GRAD_KERNEL, SWIGLU_GRAD_KERNEL, ROWS_MATMUL_KERNEL, ROPE_ROWS_KERNEL, STEP_ATTENTION_KERNEL, DECODER_STEP_KERNEL, MODEL_STEP_KERNEL, PACK_PANELS_KERNEL, DECODER_PROJECTIONS } from './name.js';
export { openNativeDecodeSession, type NativeDecodeSession, type ModelStepAttrs } from './decode-session.js';
export { nativeVectorMath, type NativeVectorMath } from './vector-math.js';
