import { BatchMatMul, broadcast_util, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import { bf16Bits, kernelWithFallback, nativeKernel, valuesOf, type Args } from './kernel-util.js';
import { ROWS_MATMUL_KERNEL } from './name.js';

/**
 * tfjs's BatchMatMul on OpenBLAS: a [...batchA, M, K] · b [...batchB, K, N] (either transposed), batch dims
 * broadcast as tfjs-backend-cpu broadcasts them (batch i reads a[i % batchA], b[i % batchB]).
 */
export function batchMatMulKernel(addon: NativeAddon): KernelConfig {
  return kernelWithFallback(BatchMatMul, (args: Args, fallback) => {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
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
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) return fallback(args as never) as TensorInfo;
    const out = backend.alloc(batch * m * n);
    addon.batchSgemm(valuesOf(backend, a), valuesOf(backend, b), out, batch, batchA, batchB, m, n, k, transposeA, transposeB, 0, backend.threads);
    return backend.makeTensorInfo([...outer, m, n], 'float32', out);
  });
}

/**
 * {@link ROWS_MATMUL_KERNEL}: x [N, in] · w [in, out] on the addon's row-invariant product. With the attribute
 * `bf16`, w is int32 [in, out/2] holding bf16 values in pairs (low half first), widened as they are read.
 */
export function rowsMatMulKernel(addon: NativeAddon): KernelConfig {
  return nativeKernel(ROWS_MATMUL_KERNEL, (args) => {
    const { x, w } = args.inputs;
    const bf16 = (args.attrs as { bf16?: number } | undefined)?.bf16 === 1;
    const [m, k] = x.shape;
    const [kw, cols] = w.shape;
    const n = bf16 ? 2 * cols : cols;
    util.assert(x.shape.length === 2 && w.shape.length === 2 && k === kw && (!bf16 || w.dtype === 'int32'), () => `${ROWS_MATMUL_KERNEL}: expected x [N, in] and w [in, out]${bf16 ? ' (int32 pairs of bf16)' : ''}, got [${x.shape}] and ${w.dtype} [${w.shape}]`);
    const out = args.backend.alloc(m * n);
    const weights = bf16 ? bf16Bits(args.backend, w) : valuesOf(args.backend, w);
    addon.rowsGemm(valuesOf(args.backend, x), weights, out, m, k, n, args.backend.threads);
    return args.backend.makeTensorInfo([m, n], 'float32', out);
  });
}
