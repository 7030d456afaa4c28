import * as tf from '@tensorflow/tfjs-core';
import { NativeBackend } from './native-backend.js';
import { loadAddon, type NativeAddon } from './addon.js';
import { batchMatMulKernel, rowsMatMulKernel } from './batch-matmul.js';
import { binaryKernels, copyKernels, dropoutKernel, fusedKernels, indexKernels, logSoftmaxPickKernels, reduceKernels, softmaxKernel, transposeKernel, unaryKernels } from './elementwise.js';
import { NATIVE_BACKEND } from './name.js';
import { attentionKernels } from './attention.js';
import { decoderStepKernel, modelStepKernel, packPanelsKernel } from './decoder-step.js';

export { NATIVE_BACKEND };

/** Threads the registered native backend runs its products on (1 when it is not registered). */
export function nativeThreads(): number {
  const live = tf.engine().registry[NATIVE_BACKEND] as NativeBackend | undefined;
  return live?.threads ?? 1;
}

let registered: NativeAddon | null = null;
/** Threads for the products of this thread's backend (per worker thread: each has its own module state). */
let threads = 1;

/**
 * Registers the `native` tfjs backend: tfjs-backend-cpu's tensor storage (plain typed arrays in the Node heap,
 * so no 4 GiB wasm ceiling) and its kernels, with the products replaced by OpenBLAS. Returns null (and
 * registers nothing) when the addon is not built, with the reason in `loadAddon().reason`. `threads`: threads for
 * the products (1 unless given; a later call changes it).
 */
export function registerNativeBackend(opts: { threads?: number } = {}): NativeAddon | null {
  const { addon } = loadAddon();
  if (!addon) return null;
  if (opts.threads !== undefined) {
    threads = Math.max(1, Math.floor(opts.threads));
    const live = tf.engine().registry[NATIVE_BACKEND] as NativeBackend | undefined;
    if (live) live.threads = threads;
  }
  if (registered) return registered;
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(threads), 0);
  for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  const kernels = [batchMatMulKernel(addon), rowsMatMulKernel(addon), ...binaryKernels(addon), ...unaryKernels(addon), softmaxKernel(addon), ...reduceKernels(addon), transposeKernel(addon), ...copyKernels(), ...indexKernels(), dropoutKernel(addon), ...logSoftmaxPickKernels(addon), ...fusedKernels(addon), ...attentionKernels(addon), decoderStepKernel(addon), modelStepKernel(addon), packPanelsKernel(addon)];
  for (const k of kernels) {
    if (tf.getKernel(k.kernelName, NATIVE_BACKEND)) tf.unregisterKernel(k.kernelName, NATIVE_BACKEND);
    tf.registerKernel(k);
  }
  return (registered = addon);
}
