import { backend_util, broadcast_util, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeBackend } from './native-backend.js';
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS, type NativeAddon } from './addon.js';
import { broadcastStrides, coalesce, stridesOf } from './shapes.js';
import { anyValues, kernelWithFallback as kernel, nativeKernel, valuesOf, type Args } from './kernel-util.js';
import { DROPOUT_KERNEL, LOG_SOFTMAX_PICK_GRAD_KERNEL, LOG_SOFTMAX_PICK_KERNEL, RMS_NORM_GRAD_KERNEL, RMS_NORM_KERNEL, SCALED_ADD_KERNEL, SWIGLU_GRAD_KERNEL, SWIGLU_KERNEL } from './name.js';

const f64 = (xs: readonly number[]) => Float64Array.from(xs);

/** Binary ops with tfjs's broadcasting, float32 in native code. */
export function binaryKernels(addon: NativeAddon): KernelConfig[] {
  return Object.entries(BINARY_OPS).map(([name, op]) => kernel(name, (args, fallback) => {
    const { a, b } = args.inputs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args as never);
    const outShape = broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const size = util.sizeFromShape(outShape);
    const out = args.backend.alloc(size);
    if (size > 0) {
      const c = coalesce(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape)]);
      addon.binary(op, valuesOf(args.backend, a), valuesOf(args.backend, b), out, f64(c.shape), f64(c.strides[0]), f64(c.strides[1]));
    }
    return args.backend.makeTensorInfo(outShape, 'float32', out);
  }));
}

/** Unary float32 ops in native code. */
export function unaryKernels(addon: NativeAddon): KernelConfig[] {
  return Object.entries(UNARY_OPS).map(([name, op]) => kernel(name, (args, fallback) => {
    const { x } = args.inputs;
    if (x.dtype !== 'float32') return fallback(args as never);
    const out = args.backend.alloc(util.sizeFromShape(x.shape));
    addon.unary(op, valuesOf(args.backend, x), out);
    return args.backend.makeTensorInfo(x.shape, 'float32', out);
  }));
}

/** Softmax over the last axis. */
export function softmaxKernel(addon: NativeAddon): KernelConfig {
  return kernel('Softmax', (args, fallback) => {
    const { logits } = args.inputs;
    const dim = args.attrs?.dim as number[] | number | undefined;
    const axis = Array.isArray(dim) ? dim[0] : dim ?? -1;
    const rank = logits.shape.length;
    if (logits.dtype !== 'float32' || rank === 0 || (axis !== -1 && axis !== rank - 1)) return fallback(args as never);
    const cols = logits.shape[rank - 1];
    const size = util.sizeFromShape(logits.shape);
    const out = args.backend.alloc(size);
    if (size > 0) addon.rows(0, 0, valuesOf(args.backend, logits), out, size / cols, cols);
    return args.backend.makeTensorInfo(logits.shape, 'float32', out);
  });
}

/** Sum, Mean, Max and Min over trailing axes (the common case); other axes go to tfjs-backend-cpu. */
export function reduceKernels(addon: NativeAddon): KernelConfig[] {
  return Object.entries(REDUCE_OPS).map(([name, op]) => kernel(name, (args, fallback) => {
    const { x } = args.inputs;
    const rank = x.shape.length;
    const attrs = args.attrs as { axis?: number | number[]; reductionIndices?: number | number[]; keepDims: boolean };
    const axes = util.parseAxisParam(attrs.axis ?? attrs.reductionIndices ?? [], x.shape).sort((p, q) => p - q);
    const trailing = axes.length > 0 && axes.every((d, i) => d === rank - axes.length + i);
    if (x.dtype !== 'float32' || !trailing) return fallback(args as never);
    const [outShape, reduceShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const cols = util.sizeFromShape(reduceShape);
    const rows = util.sizeFromShape(outShape);
    const out = args.backend.alloc(rows);
    if (cols > 0) addon.rows(1, op, valuesOf(args.backend, x), out, rows, cols);
    else if (name === 'Sum') out.fill(0);
    else return fallback(args as never);
    const shape = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return args.backend.makeTensorInfo(shape, 'float32', out);
  }));
}

/** Transpose of any permutation of float32 values, copying whole runs where the layout allows. */
export function transposeKernel(addon: NativeAddon): KernelConfig {
  return kernel('Transpose', (args, fallback) => {
    const { x } = args.inputs;
    const perm = args.attrs!.perm as number[];
    if (x.dtype !== 'float32' || x.shape.length > 8) return fallback(args as never);
    const inStrides = stridesOf(x.shape);
    const outShape = perm.map((p) => x.shape[p]);
    const size = util.sizeFromShape(outShape);
    const out = args.backend.alloc(size);
    if (size > 0) {
      const c = coalesce(outShape, [perm.map((p) => inStrides[p])]);
      addon.transpose(valuesOf(args.backend, x), out, f64(c.shape), f64(c.strides[0]));
    }
    return args.backend.makeTensorInfo(outShape, 'float32', out);
  });
}

/** SplitV and Concat along any axis as bulk copies of contiguous runs (tfjs-backend-cpu slices index by index). */
export function copyKernels(): KernelConfig[] {
  const split = kernel('SplitV', (args, fallback) => {
    const { x } = args.inputs;
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    if (x.dtype === 'string' || x.dtype === 'complex64') return fallback(args as never);
    const ax = util.parseAxisParam(axis, x.shape)[0];
    const dim = x.shape[ax];
    const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, ax);
    const outer = util.sizeFromShape(x.shape.slice(0, ax));
    const inner = util.sizeFromShape(x.shape.slice(ax + 1));
    const src = anyValues(args.backend, x);
    let begin = 0;
    return sizes.map((s) => {
      const out = x.dtype === 'float32' ? args.backend.alloc(outer * s * inner) : (util.getTypedArrayFromDType(x.dtype as 'float32', outer * s * inner) as Float32Array);
      for (let o = 0; o < outer; o++) out.set(src.subarray((o * dim + begin) * inner, (o * dim + begin + s) * inner) as Float32Array, o * s * inner);
      begin += s;
      const shape = x.shape.slice();
      shape[ax] = s;
      return args.backend.makeTensorInfo(shape, x.dtype, out);
    });
  });
  const concat = kernel('Concat', (args, fallback) => {
    const inputs = Object.values(args.inputs) as TensorInfo[];
    const { axis } = args.attrs as { axis: number };
    const dtype = inputs[0].dtype;
    if (dtype === 'string' || dtype === 'complex64' || inputs.some((t) => t.dtype !== dtype)) return fallback(args as never);
    const ax = util.parseAxisParam(axis, inputs[0].shape)[0];
    const outShape = backend_util.computeOutShape(inputs.map((t) => t.shape), ax);
    const outer = util.sizeFromShape(outShape.slice(0, ax));
    const inner = util.sizeFromShape(outShape.slice(ax + 1));
    const total = util.sizeFromShape(outShape);
    const out = dtype === 'float32' ? args.backend.alloc(total) : (util.getTypedArrayFromDType(dtype as 'float32', total) as Float32Array);
    const rowLength = outShape[ax] * inner;
    let at = 0;
    for (const t of inputs) {
      const run = t.shape[ax] * inner;
      if (run > 0) {
        const src = anyValues(args.backend, t);
        for (let o = 0; o < outer; o++) out.set(src.subarray(o * run, (o + 1) * run) as Float32Array, o * rowLength + at);
      }
      at += run;
    }
    return args.backend.makeTensorInfo(outShape, dtype, out);
  });
  return [split, concat];
}

/** OneHot and GatherV2 as fills and bulk row copies (tfjs-backend-cpu indexes element by element). */
export function indexKernels(): KernelConfig[] {
  const oneHot = kernel('OneHot', (args, fallback) => {
    const { indices } = args.inputs;
    const { depth, onValue, offValue, dtype } = args.attrs as { depth: number; onValue: number; offValue: number; dtype: string };
    if (indices.dtype !== 'int32' || (dtype !== 'float32' && dtype !== 'int32')) return fallback(args as never);
    const n = util.sizeFromShape(indices.shape);
    const out = dtype === 'float32' ? args.backend.alloc(n * depth) : args.backend.allocInt32(n * depth);
    out.fill(offValue);
    const idx = anyValues(args.backend, indices);
    for (let i = 0; i < n; i++) {
      const k = idx[i];
      if (k >= 0 && k < depth) out[i * depth + k] = onValue;
    }
    return args.backend.makeTensorInfo([...indices.shape, depth], dtype as 'float32', out);
  });
  const gather = kernel('GatherV2', (args, fallback) => {
    const { x, indices } = args.inputs;
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    if (batchDims !== 0 || indices.dtype !== 'int32' || x.dtype === 'string' || x.dtype === 'complex64') return fallback(args as never);
    const ax = util.parseAxisParam(axis, x.shape)[0];
    const dim = x.shape[ax];
    const outer = util.sizeFromShape(x.shape.slice(0, ax));
    const inner = util.sizeFromShape(x.shape.slice(ax + 1));
    const idx = anyValues(args.backend, indices);
    const n = util.sizeFromShape(indices.shape);
    for (let i = 0; i < n; i++) if (idx[i] < 0 || idx[i] >= dim) return fallback(args as never);
    const total = outer * n * inner;
    const out = x.dtype === 'float32' ? args.backend.alloc(total) : (util.getTypedArrayFromDType(x.dtype as 'float32', total) as Float32Array);
    const src = anyValues(args.backend, x);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < n; i++) {
        const from = (o * dim + idx[i]) * inner;
        if (inner === 1) out[o * n + i] = src[from];
        else out.set(src.subarray(from, from + inner) as Float32Array, (o * n + i) * inner);
      }
    }
    return args.backend.makeTensorInfo([...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)], x.dtype, out);
  });
  const cast = kernel('Cast', (args, fallback) => {
    const { x } = args.inputs;
    const { dtype } = args.attrs as { dtype: string };
    if (dtype !== 'float32' || (x.dtype !== 'int32' && x.dtype !== 'bool')) return fallback(args as never);
    const out = args.backend.alloc(util.sizeFromShape(x.shape));
    out.set(anyValues(args.backend, x));
    return args.backend.makeTensorInfo(x.shape, 'float32', out);
  });
  return [oneHot, gather, cast];
}

/** {@link DROPOUT_KERNEL} in native code (tf.dropout draws one JS random number an element). */
export function dropoutKernel(addon: NativeAddon): KernelConfig {
  const kernelFunc = (args: Args) => {
    const { x } = args.inputs;
    const { rate, seed } = args.attrs as { rate: number; seed: number };
    const out = args.backend.alloc(util.sizeFromShape(x.shape));
    addon.dropout(valuesOf(args.backend, x), out, rate, seed);
    return args.backend.makeTensorInfo(x.shape, 'float32', out);
  };
  return nativeKernel(DROPOUT_KERNEL, kernelFunc);
}

/** {@link LOG_SOFTMAX_PICK_KERNEL} and its gradient kernel. */
export function logSoftmaxPickKernels(addon: NativeAddon): KernelConfig[] {
  const int32 = (backend: NativeBackend, t: TensorInfo) => {
    const v = backend.data.get(t.dataId)!.values;
    return v instanceof Int32Array ? v : Int32Array.from(v as Float32Array);
  };
  const forwardFunc = (args: Args) => {
    const { logits, targets } = args.inputs;
    const [rows, cols] = logits.shape;
    const out = args.backend.alloc(rows);
    addon.logSoftmaxPick(valuesOf(args.backend, logits), int32(args.backend, targets), out, rows, cols);
    return args.backend.makeTensorInfo([rows], 'float32', out);
  };
  const gradFunc = (args: Args) => {
    const { logits, targets, dy } = args.inputs;
    const [rows, cols] = logits.shape;
    const out = args.backend.alloc(rows * cols);
    addon.logSoftmaxPick(valuesOf(args.backend, logits), int32(args.backend, targets), out, rows, cols, valuesOf(args.backend, dy));
    return args.backend.makeTensorInfo([rows, cols], 'float32', out);
  };
  return [
    nativeKernel(LOG_SOFTMAX_PICK_KERNEL, forwardFunc),
    nativeKernel(LOG_SOFTMAX_PICK_GRAD_KERNEL, gradFunc),
  ];
}

/**
 * {@link RMS_NORM_KERNEL}, {@link SWIGLU_KERNEL} and {@link SCALED_ADD_KERNEL}: one pass each for what takes 2–6 ops;
 * the first two's gradients ({@link RMS_NORM_GRAD_KERNEL}, {@link SWIGLU_GRAD_KERNEL}) from their inputs alone.
 */
export function fusedKernels(addon: NativeAddon): KernelConfig[] {
  return [
    nativeKernel(RMS_NORM_KERNEL, (args) => {
      const { x, w } = args.inputs;
      const [rows, cols] = x.shape;
      const out = args.backend.alloc(rows * cols);
      if (rows > 0) addon.fused(0, valuesOf(args.backend, x), valuesOf(args.backend, w), null, out, rows, cols, (args.attrs as { eps: number }).eps);
      return args.backend.makeTensorInfo(x.shape, 'float32', out);
    }),
    nativeKernel(SWIGLU_KERNEL, (args) => {
      const { gate, up } = args.inputs;
      const n = util.sizeFromShape(gate.shape);
      const out = args.backend.alloc(n);
      if (n > 0) addon.fused(1, valuesOf(args.backend, gate), valuesOf(args.backend, up), null, out, 1, n, 0);
      return args.backend.makeTensorInfo(gate.shape, 'float32', out);
    }),
    nativeKernel(RMS_NORM_GRAD_KERNEL, (args) => {
      const { x, w, dy } = args.inputs;
      const [rows, cols] = x.shape;
      const dx = args.backend.alloc(rows * cols);
      const dw = args.backend.alloc(cols);
      addon.fusedGrad(0, valuesOf(args.backend, x), valuesOf(args.backend, w), valuesOf(args.backend, dy), dx, dw, rows, cols, (args.attrs as { eps: number }).eps);
      return [args.backend.makeTensorInfo(x.shape, 'float32', dx), args.backend.makeTensorInfo([cols], 'float32', dw)];
    }),
    nativeKernel(SWIGLU_GRAD_KERNEL, (args) => {
      const { gate, up, dy } = args.inputs;
      const n = util.sizeFromShape(gate.shape);
      const dgate = args.backend.alloc(n);
      const dup = args.backend.alloc(n);
      if (n > 0) addon.fusedGrad(1, valuesOf(args.backend, gate), valuesOf(args.backend, up), valuesOf(args.backend, dy), dgate, dup, 1, n, 0);
      return [args.backend.makeTensorInfo(gate.shape, 'float32', dgate), args.backend.makeTensorInfo(gate.shape, 'float32', dup)];
    }),
    nativeKernel(SCALED_ADD_KERNEL, (args) => {
      const { y, delta, scale } = args.inputs;
      const [rows, cols] = y.shape;
      const out = args.backend.alloc(rows * cols);
      if (rows > 0) addon.fused(2, valuesOf(args.backend, y), valuesOf(args.backend, delta), valuesOf(args.backend, scale), out, rows, cols, 0);
      return args.backend.makeTensorInfo(y.shape, 'float32', out);
    }),
  ];
}
