import * as tf from '@tensorflow/tfjs-core';
import { BatchMatMul, broadcast_util, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeBackend } from './native-backend.js';
import type { NativeAddon } from './addon.js';
import { NATIVE_BACKEND } from './name.js';

/**
 * The float32 values of a tensor held by the CPU backend's storage: no copy, except for a float32 tensor that a
 * cast left on integer storage (tfjs-backend-cpu casts int32 to float32 without converting).
 */
export function valuesOf(backend: NativeBackend, t: TensorInfo): Float32Array {
  const values = backend.data.get(t.dataId)!.values;
  if (values instanceof Float32Array) return values;
  if (t.dtype === 'float32' && ArrayBuffer.isView(values)) return Float32Array.from(values as Int32Array);
  throw new Error(`native backend: expected float32 values, got ${t.dtype} [${t.shape}]`);
}

/**
 * tfjs's BatchMatMul on OpenBLAS: a [...batchA, M, K] · b [...batchB, K, N] (either transposed), batch dims
 * broadcast as tfjs-backend-cpu broadcasts them (batch i reads a[i % batchA], b[i % batchB]).
 */
export function batchMatMulKernel(addon: NativeAddon): KernelConfig {
  const fallback = tf.getKernel(BatchMatMul, 'cpu')!.kernelFunc as unknown as (args: object) => TensorInfo;
  const kernelFunc = (args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: NativeBackend; attrs: { transposeA: boolean; transposeB: boolean } }) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs;
    const { transposeA, transposeB } = attrs;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    util.assert(k === kb, () => `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
    const outer = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batchA = util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = util.sizeFromShape(b.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    // Batch dims that broadcast against each other ([2, 1] with [1, 3]) are not one operand repeated.
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) return fallback(args);
    const out = backend.alloc(batch * m * n);
    addon.batchSgemm(valuesOf(backend, a), valuesOf(backend, b), out, batch, batchA, batchB, m, n, k, transposeA, transposeB, 0);
    return backend.makeTensorInfo([...outer, m, n], 'float32', out);
  };
  return { kernelName: BatchMatMul, backendName: NATIVE_BACKEND, kernelFunc: kernelFunc as unknown as KernelFunc };
}
