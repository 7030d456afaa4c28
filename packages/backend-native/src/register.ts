import * as tf from '@tensorflow/tfjs-core';
import { NativeBackend } from './native-backend.js';
import { loadAddon, type NativeAddon } from './addon.js';
import { batchMatMulKernel } from './batch-matmul.js';
import { binaryKernels, copyKernels, dropoutKernel, fusedKernels, indexKernels, logSoftmaxPickKernels, reduceKernels, softmaxKernel, transposeKernel, unaryKernels } from './elementwise.js';
import { NATIVE_BACKEND } from './name.js';

export { NATIVE_BACKEND };

let registered: NativeAddon | null = null;

/**
 * Registers the `native` tfjs backend: tfjs-backend-cpu's tensor storage (plain typed arrays in the Node heap,
 * so no 4 GiB wasm ceiling) and its kernels, with the products replaced by OpenBLAS. Returns null (and
 * registers nothing) when the addon is not built, with the reason in `loadAddon().reason`.
 */
export function registerNativeBackend(opts: { threads?: number } = {}): NativeAddon | null {
  const { addon } = loadAddon();
  if (!addon) return null;
  if (opts.threads !== undefined) addon.setThreads(Math.max(1, Math.floor(opts.threads)));
  if (registered) return registered;
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 0);
  for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  const kernels = [batchMatMulKernel(addon), ...binaryKernels(addon), ...unaryKernels(addon), softmaxKernel(addon), ...reduceKernels(addon), transposeKernel(addon), ...copyKernels(), ...indexKernels(), dropoutKernel(addon), ...logSoftmaxPickKernels(addon), ...fusedKernels(addon)];
  for (const k of kernels) {
    if (tf.getKernel(k.kernelName, NATIVE_BACKEND)) tf.unregisterKernel(k.kernelName, NATIVE_BACKEND);
    tf.registerKernel(k);
  }
  return (registered = addon);
}
