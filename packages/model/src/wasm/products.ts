import { tf } from '../tf.js';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Variable } from '../tf.js';
import { taping } from '../taping.js';
import { keepPacked, keptTranspose, packedCopyFits, pieceBytesNow, type FrozenKernel } from '../frozen-copies.js';
import { packPanels, rowsMatmul, rowsMatmulAvailable, rowsMatmulChunked } from './rows-matmul.js';
import { SPLIT_MIN_MACS, backendThreads } from './runtime.js';
import { transposed } from './transpose2d.js';
import { concatLeading, leadingBlocksAvailable, splitLeading } from './leading-blocks.js';
import { gatherRows, gatherRowsAvailable } from './gather-rows.js';

/**
 * The wasm backend's products. It is fast (tens of GFLOP/s) only for 2-D products without transpose flags;
 * batched or transposed operands fall to about 1 GFLOP/s. So every product here is 2-D and untransposed, in the
 * backward passes too (custom gradients), and frozen weights go to this package's rows kernel.
 */

/**
 * `dy [n, out] · kernelᵀ → [n, in]`: on the rows kernel over a packed copy of kernelᵀ where
 * {@link frozenProduct} would use it, else the backend's product with the transposed copy kept while the
 * budget allows.
 */
function frozenBackward(dy: Tensor2D, w: FrozenKernel): Tensor2D {
  if (rowsKernelFor(dy, w)) {
    const packedT = keepPacked(w, true, () => (w.kernelT ? packPanels(w.kernelT) : tf.tidy(() => packPanels(transposed(w.kernel)))));
    if (packedT) return rowsMatmul(dy, packedT, w.kernel.shape[0]);
  }
  const kernelT = keptTranspose(w);
  if (kernelT) return tf.matMul(dy, kernelT);
  return backwardInPieces(dy, w.kernel);
}

/**
 * `dy [n, out] · kernelᵀ → [n, in]` over transient transposed copies of blocks of the kernel's rows, about
 * `piece` bytes each (disposing a copy also drops the backend's packed copy of it). A whole copy of a weight
 * over the budgets would need its size twice over at once (the copy and the backend's packing of it): 1.1 GB
 * for the tied head of a 0.5B model, which with the weights and activations exhausts the wasm heap. Each
 * output column is one block's, summed over the same terms in the same order: bitwise the whole product.
 */
function backwardInPieces(dy: Tensor2D, kernel: Tensor2D): Tensor2D {
  const [inDim, outDim] = kernel.shape;
  const rows = Math.max(1, Math.floor(pieceBytesNow() / (outDim * 4)));
  if (rows >= inDim) return tf.tidy(() => tf.matMul(dy, transposed(kernel)));
  const parts: Tensor2D[] = [];
  for (let r0 = 0; r0 < inDim; r0 += rows) {
    const block = [r0, Math.min(inDim, r0 + rows)] as const;
    parts.push(tf.tidy(() => tf.matMul(dy, transposed(rowBlock(kernel, ...block)))));
  }
  const out = tf.concat(parts, 1) as Tensor2D;
  tf.dispose(parts);
  return out;
}

/** Rows r0 .. r1-1 of `t`: one bulk copy a row on wasm (the backend's Slice copies per element). */
function rowBlock(t: Tensor2D, r0: number, r1: number): Tensor2D {
  if (t.dtype !== 'float32' || !gatherRowsAvailable()) return tf.slice(t, [r0, 0], [r1 - r0, t.shape[1]]);
  return tf.tidy(() => gatherRows(t, tf.range(r0, r1, 1, 'int32') as Tensor1D));
}

/**
 * `x [n, in] · kernel [in, out] → [n, out]` for a frozen kernel: the gradient flows to `x` only,
 * computed as `dy · kernelT` (2-D, untransposed).
 */
export function frozenMatmul(x: Tensor2D, w: FrozenKernel): Tensor2D {
  if (!taping()) return frozenProduct(x, w);
  const f = tf.customGrad(((xIn: Tensor, save: (ts: Tensor[]) => void) => {
    save([]);
    return {
      value: frozenProduct(xIn as Tensor2D, w),
      gradFunc: (dy: Tensor) => frozenBackward(dy as Tensor2D, w),
    };
  }) as any);
  return f(x) as Tensor2D;
}

/**
 * Products with a frozen weight on wasm go to the rows kernel (wasm/rows-matmul.ts) over a panel-packed
 * copy of the weight, bit for bit the backend's product. Decoding steps multiply one or two rows
 * (contrastive decoding: expert and amateur), which the kernel does reading the weight once for both rows;
 * prompts and training batches multiply many, where it is faster than XNNPACK on one thread. On more threads the
 * kernel takes products of at least {@link SPLIT_MIN_MACS} multiply-adds, split by panels over helper threads
 * (faster than XNNPACK's pool), and XNNPACK's pool the
 * mid-sized products of more than two rows (split there, the helpers would wait for the pool's spinning
 * thread); weights over the packed-copy budget are read in place; other backends and empty weights use the
 * backend's product.
 */
function frozenProduct(x: Tensor2D, w: FrozenKernel): Tensor2D {
  if (rowsKernelFor(x, w)) {
    const packed = keepPacked(w, false, () => packPanels(w.kernel));
    return packed ? rowsMatmul(x, packed, w.kernel.shape[1]) : rowsMatmulChunked(x, w.kernel);
  }
  // A weight with no room for a packed copy is read in place even where the backend's pool would take the
  // product: the backend keeps its own packed copy of every weight it multiplies for as long as the weight
  // lives, which for a model of half the heap exhausts it.
  if (!w.packed && rowsUsable(x, w) && !packedCopyFits(w)) return rowsMatmulChunked(x, w.kernel);
  return tf.matMul(x, w.kernel);
}

/** Whether the rows kernel can take `x`'s product with `w` at all (wasm, nothing empty). */
function rowsUsable(x: Tensor2D, w: FrozenKernel): boolean {
  return x.shape[0] > 0 && w.kernel.size > 0 && rowsMatmulAvailable();
}

/** Whether `x`'s product with `w` (or `w`ᵀ) goes to the rows kernel: see {@link frozenProduct}. */
function rowsKernelFor(x: Tensor2D, w: FrozenKernel): boolean {
  if (!rowsUsable(x, w)) return false;
  const rows = x.shape[0];
  return rows <= 2 || (backendThreads() ?? 1) === 1 || rows * w.kernel.size >= SPLIT_MIN_MACS;
}

/**
 * `a [n, k] · b [k, m] → [n, m]` where both operands get gradients, with 2-D untransposed products
 * in the backward pass (the explicit transposes, on the transpose kernel on wasm, are cheap copies next to the
 * products). `packedB`, a panel-packed copy of `b`, computes the value of a one- or two-row product with the
 * rows kernel.
 */
export function matmul2d(a: Tensor2D, b: Tensor2D, packedB?: Tensor1D): Tensor2D {
  const product = (x: Tensor2D, y: Tensor2D): Tensor2D => (packedB ? rowsMatmul(x, packedB, b.shape[1]) : tf.matMul(x, y));
  if (!taping()) return product(a, b);
  const f = tf.customGrad(((aIn: Tensor, bIn: Tensor, save: (ts: Tensor[]) => void) => {
    save([aIn, bIn]);
    return {
      value: product(aIn as Tensor2D, bIn as Tensor2D),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sa, sb] = saved as Tensor2D[];
        return [tf.matMul(dy as Tensor2D, transposed(sb)), tf.matMul(transposed(sa), dy as Tensor2D)];
      },
    };
  }) as any);
  return f(a, b) as Tensor2D;
}

/** `tf.split(t, parts, 0)`: one bulk copy a piece on wasm for float32 (tfjs-wasm's SplitV copies per element). */
export function splitFirstAxis<T extends Tensor>(t: T, parts: number): T[] {
  return t.dtype === 'float32' && leadingBlocksAvailable() ? splitLeading(t, parts) : (tf.split(t, parts, 0) as T[]);
}

/** `tf.stack(ts)` of tensors of one shape: one bulk copy each on wasm for float32 (tfjs-wasm's Pack and its gradient copy per element). */
export function stackFirstAxis(ts: Tensor[]): Tensor {
  if (!ts.every((t) => t.dtype === 'float32') || !leadingBlocksAvailable()) return tf.stack(ts);
  return concatLeading(ts.map((t) => t.reshape([1, ...t.shape])));
}

/** Packed copies of adapter weights for one- and two-row products, with the value each was packed from. */
const adapterCopies = new Map<Variable, { dataId: object; packed: Tensor1D }>();

/**
 * `x [n, in] · w [in, out]` for an adapter weight (a LoRA A or B), with gradients to both. Decoding steps
 * (one or two rows) on wasm use the rows kernel over a packed copy of `w`, kept until `w` is assigned a new
 * value or released: the backend's product costs more in dispatch than in arithmetic at these shapes, and its
 * threaded build hands them to the pool, whose wake-up costs far more.
 */
export function adapterMatmul(x: Tensor2D, w: Variable): Tensor2D {
  const fewRows = x.shape[0] <= 2 && w.size > 0 && rowsMatmulAvailable();
  return matmul2d(x, w as unknown as Tensor2D, fewRows ? packedAdapterCopy(w) : undefined);
}

function packedAdapterCopy(w: Variable): Tensor1D {
  const kept = adapterCopies.get(w);
  if (kept && kept.dataId === w.dataId) return kept.packed;
  kept?.packed.dispose();
  // Copies of weights disposed without `disposeAdapter` go here rather than live on.
  for (const [v, c] of adapterCopies) {
    if (v.isDisposed) {
      c.packed.dispose();
      adapterCopies.delete(v);
    }
  }
  const packed = tf.keep(packPanels(w as unknown as Tensor2D));
  adapterCopies.set(w, { dataId: w.dataId, packed });
  return packed;
}

/** Drops the packed copy of an adapter weight (see `adapterMatmul`), e.g. when the weight is disposed. */
export function releaseAdapterCopy(w: Variable): void {
  adapterCopies.get(w)?.packed.dispose();
  adapterCopies.delete(w);
}

/**
 * Batched product `a [g, n, k] · b [g, k, m] → [g, n, m]`, as `g` 2-D products (wasm multiplies batched or
 * transposed operands at about 1 GFLOP/s, 2-D untransposed ones at tens).
 */
export function batchMatmul(a: Tensor3D, b: Tensor3D): Tensor3D {
  const g = a.shape[0];
  if (g === 1) return tf.expandDims(matmul2d(tf.squeeze(a, [0]) as Tensor2D, tf.squeeze(b, [0]) as Tensor2D), 0) as Tensor3D;
  // split rather than unstack, which is slower still on wasm.
  const [, n, k] = a.shape;
  const m = b.shape[2];
  const as = splitFirstAxis(a, g).map((t) => t.reshape([n, k]) as Tensor2D);
  const bs = splitFirstAxis(b, g).map((t) => t.reshape([k, m]) as Tensor2D);
  return stackFirstAxis(as.map((ai, i) => matmul2d(ai, bs[i]))) as Tensor3D;
}
