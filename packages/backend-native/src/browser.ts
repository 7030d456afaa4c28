/**
 * @cope/backend-native in a browser: the kernel names @cope/model's wasm kernels share, and no addon (a browser
 * loads no N-API module: {@link loadAddon} says so, {@link registerNativeBackend} registers nothing). Bundlers pick
 * this entry through the package's `browser` export condition.
 */
import type { NativeAddon } from './addon-types.js';
import type { NativeDecodeSession, NativeVectorMath } from './native-types.js';

export type { NativeAddon, NativeDecodeSession, NativeVectorMath };
export type { ModelStepAttrs } from './native-types.js';
export { NATIVE_BACKEND } from './name.js';
export { DROPOUT_KERNEL, LOG_SOFTMAX_PICK_KERNEL, LOG_SOFTMAX_PICK_GRAD_KERNEL, RMS_NORM_KERNEL, SWIGLU_KERNEL, SCALED_ADD_KERNEL, RMS_NORM_GRAD_KERNEL, SWIGLU_GRAD_KERNEL, ROWS_MATMUL_KERNEL, ROPE_ROWS_KERNEL, STEP_ATTENTION_KERNEL, DECODER_STEP_KERNEL, MODEL_STEP_KERNEL, PACK_PANELS_KERNEL, DECODER_PROJECTIONS } from './name.js';

const NO_ADDON = { addon: null, reason: '@cope/backend-native: a browser loads no native addon' };

export function loadAddon(): { addon: NativeAddon | null; reason: string } {
  return NO_ADDON;
}

export function registerNativeBackend(): NativeAddon | null {
  return null;
}

export function nativeThreads(): number {
  return 1;
}

export function openNativeDecodeSession(): NativeDecodeSession {
  throw new Error(NO_ADDON.reason);
}

export function nativeVectorMath(): NativeVectorMath | null {
  return null;
}
