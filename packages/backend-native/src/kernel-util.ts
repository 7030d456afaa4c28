import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeBackend } from './native-backend.js';
import { NATIVE_BACKEND } from './name.js';

/** What a native kernel gets: its inputs, the backend, its attributes. */
export type Args = { inputs: Record<string, TensorInfo> & { length?: number }; backend: NativeBackend; attrs?: Record<string, unknown> };

/** A kernel of the native backend. */
export function nativeKernel(kernelName: string, body: (args: Args) => TensorInfo | TensorInfo[]): KernelConfig {
  return { kernelName, backendName: NATIVE_BACKEND, kernelFunc: body as unknown as KernelFunc };
}

/**
 * A native kernel replacing one of tfjs-backend-cpu's, which `body` gets as `fallback` for the dtypes and layouts
 * it does not take.
 */
export function kernelWithFallback(kernelName: string, body: (args: Args, fallback: KernelFunc) => TensorInfo | TensorInfo[]): KernelConfig {
  const k = tf.getKernel(kernelName, 'cpu');
  if (!k) throw new Error(`native backend: tfjs-backend-cpu has no ${kernelName} kernel`);
  return nativeKernel(kernelName, (args) => body(args, k.kernelFunc));
}

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

/** The typed array behind a tensor of any numeric dtype. */
export function anyValues(backend: NativeBackend, t: TensorInfo): ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> } {
  return backend.data.get(t.dataId)!.values as Float32Array;
}

/** The bf16 bits of a weight kept as int32 pairs of bf16 values (low half first), viewed in place as 16-bit values. */
export function bf16Bits(backend: NativeBackend, t: TensorInfo): Uint16Array {
  const pairs = anyValues(backend, t) as unknown as Int32Array;
  return new Uint16Array(pairs.buffer, pairs.byteOffset, pairs.length * 2);
}
