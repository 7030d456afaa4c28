import { tf } from './tf.js';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Variable } from './tf.js';
import { backendThreads } from './backend.js';
import { packPanels, rowsMatmul, rowsMatmulAvailable, rowsMatmulChunked } from './kernels/rows-matmul.js';
import { SPLIT_MIN_MACS } from './kernels/rows-helpers.js';
import { transpose2d, transpose2dAvailable } from './kernels/transpose2d.js';
import { concatLeading, leadingBlocksAvailable, splitLeading } from './kernels/leading-blocks.js';
import { gatherRows, gatherRowsAvailable } from './kernels/gather-rows.js';
import { backendKernel } from './kernels/heap-module.js';
import { ROWS_MATMUL_KERNEL } from '@cope/backend-native';

/**
 * Matmul layout switch. The wasm backend is fast (tens of GFLOP/s) only for 2-D products without
 * transpose flags; batched or transposed operands fall to about 1 GFLOP/s. On such backends the
 * helpers below use 2-D untransposed products in both the forward and the backward pass.
 */
export function prefersPlain2d(): boolean {
  return tf.getBackend() === 'wasm';
}

/**
 * A frozen weight in kernel layout [in, out], with copies made when first needed: [out, in] for
 * gradients, and on wasm panel-packed copies of both layouts for the rows kernel (forward and backward).
 */
export interface FrozenKernel {
  kernel: Tensor2D;
  kernelT?: Tensor2D;
  packed?: Tensor1D;
  packedT?: Tensor1D;
}

/**
 * Budgets for the copies of frozen kernels kept between calls: `[out, in]` copies for gradients that run on
 * the backend (256 MiB per process by default), and panel-packed copies of `kernel` and `kernelᵀ` for the
 * rows kernel (512 MiB). The wasm heap holds 4 GiB; every product the backend runs keeps its own packed copy
 * of the weight too, so a weight gets either our packed copies or the backend's. Models larger than the
 * budgets make transposed copies per call instead (a transpose and a packing per backward product), and
 * their forward products without a packed copy read the weight in place (`rowsMatmulChunked`), never the
 * backend's product, whose own packed copy would stay as long as the weight.
 */
class CopyBudget {
  private readonly kept = new Set<Tensor>();

  /** `heapCost`: heap bytes a kept byte costs on wasm (2 for `[out, in]` copies: the backend packs them too). */
  constructor(public bytes: number, private readonly heapCost: number) {}

  /**
   * Whether a copy of `size` floats fits next to the live kept copies and, on wasm, under the heap limit
   * ({@link setFrozenCopyBudgets}' `heap`).
   */
  fits(size: number): boolean {
    let total = 0;
    for (const t of this.kept) {
      if (t.isDisposed) this.kept.delete(t);
      else total += t.size * 4;
    }
    if (total + size * 4 > this.bytes) return false;
    return !prefersPlain2d() || heldBytes() + size * 4 * this.heapCost <= keptHeapLimit;
  }

  keep<T extends Tensor>(t: T): T {
    this.kept.add(t);
    keptSinceForward += t.size * 4 * this.heapCost;
    return tf.keep(t);
  }
}

/** Tensor bytes when the last forward pass began (weights, kept copies, caches), and heap bytes kept since. */
let bytesAtForward: number | undefined;
let keptSinceForward = 0;

/**
 * Marks the start of a forward pass: copies are then decided against the tensors held before it (plus copies
 * kept since), not against its activations and gradients, which a training step frees again (a medium-config
 * step's backward passes 2 GiB of tensors).
 */
export function noteForwardStart(): void {
  bytesAtForward = tf.memory().numBytes;
  keptSinceForward = 0;
}

/** The tensors the heap holds beyond one step: see {@link noteForwardStart}. */
function heldBytes(): number {
  return bytesAtForward === undefined ? tf.memory().numBytes : bytesAtForward + keptSinceForward;
}

const transposeBudget = new CopyBudget(256 * 1024 * 1024, 2);
const packedBudget = new CopyBudget(512 * 1024 * 1024, 1);
/**
 * On wasm, copies are kept only while the tensors held beyond a step (those alive when the forward pass began:
 * weights, kept copies, caches) stay under this many bytes with them: the rest of the 4 GiB heap is left to a
 * step's activations. A 0.5B model's weights alone take 1.84 GiB, and a 128-token LoRA step on it needs about
 * 1.9 GiB more; smaller models keep every copy the budgets allow.
 */
let keptHeapLimit = 1.75 * 1024 * 1024 * 1024;

/**
 * A `heap` limit for processes that decode and never train (`setFrozenCopyBudgets({ heap })`): a decoding step's
 * tensors are small next to a training step's, so a 0.5B model keeps its 512 MiB of packed copies (greedy
 * decoding 5–12% faster than without them) and still leaves 1 GiB for a batch of prompts.
 */
export const INFERENCE_COPY_HEAP_BYTES = 3 * 1024 * 1024 * 1024;
/** Bytes of transposed weight a backward product with no kept copy makes at a time ({@link backwardInPieces}). */
let pieceBytes = 32 * 1024 * 1024;

/**
 * Sets the budgets (bytes per process) for kept copies of frozen kernels: `[out, in]` copies for gradients
 * on the backend (256 MiB) and packed copies for the rows kernel (512 MiB); 0 keeps none, and copies already
 * kept stay. `heap`: on wasm, no copy is kept that would take the tensors held beyond a step past this many
 * bytes (1.75 GiB).
 * `piece`: the transient transposed copy a backward product over a weight with no kept copy makes at a time
 * (32 MiB).
 */
export function setFrozenCopyBudgets(budgets: { transposed?: number; packed?: number; heap?: number; piece?: number }): void {
  for (const [k, v] of Object.entries(budgets)) {
    if (v === undefined) continue;
    if (!(v >= 0)) throw new Error(`setFrozenCopyBudgets: ${k} must be >= 0 bytes, got ${v}`);
    if (k === 'piece') pieceBytes = v;
    else if (k === 'heap') keptHeapLimit = v;
    else (k === 'transposed' ? transposeBudget : packedBudget).bytes = v;
  }
}

/**
 * Whether a gradient tape records (inside `tf.grad`, `variableGrads`, …). The custom gradients below
 * matter only then; without a tape the values are computed directly, saving the wrapper's 1–2 µs a product
 * (53 products a decoding step on the small bench model).
 */
export function taping(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}

/**
 * `dy [n, out] · kernelᵀ → [n, in]`: on the rows kernel over a packed copy of kernelᵀ where
 * {@link frozenProduct} would use it, else the backend's product with the transposed copy kept while the
 * budget allows.
 */
function frozenBackward(dy: Tensor2D, w: FrozenKernel): Tensor2D {
  if (rowsKernelFor(dy, w)) {
    if (!w.packedT && packedBudget.fits(w.kernel.size)) {
      w.packedT = packedBudget.keep(w.kernelT ? packPanels(w.kernelT) : tf.tidy(() => packPanels(transposed(w.kernel))));
    }
    if (w.packedT) return rowsMatmul(dy, w.packedT, w.kernel.shape[0]);
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
  const rows = Math.max(1, Math.floor(pieceBytes / (outDim * 4)));
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
 * The frozen kernel's `[out, in]` copy, made and kept when the transposed-copy budget has room for it, else
 * undefined. Tied embeddings use it as the lookup table.
 */
export function keptTranspose(w: FrozenKernel): Tensor2D | undefined {
  if (!w.kernelT && transposeBudget.fits(w.kernel.size)) w.kernelT = transposeBudget.keep(transposed(w.kernel));
  return w.kernelT;
}

/**
 * `x [n, in] · kernel [in, out] → [n, out]` for a frozen kernel: the gradient flows to `x` only,
 * computed as `dy · kernelT` (2-D, untransposed).
 */
export function matmulFrozen(x: Tensor2D, w: FrozenKernel): Tensor2D {
  if (!prefersPlain2d()) {
    // Inference on a backend with a row-invariant product: a row's logits then never depend on its batch.
    if (!taping() && backendKernel(ROWS_MATMUL_KERNEL)) return tf.engine().runKernel(ROWS_MATMUL_KERNEL, { x, w: w.kernel }) as Tensor2D;
    return tf.matMul(x, w.kernel);
  }
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
 * Products with a frozen weight on wasm go to the rows kernel (kernels/rows-matmul.ts) over a panel-packed
 * copy of the weight, bit for bit the backend's product. Decoding steps multiply one or two rows
 * (contrastive decoding: expert and amateur), which the kernel does reading the weight once for both rows;
 * prompts and training batches multiply many, where it runs at about 60 GFLOP/s against XNNPACK's 44 on one
 * thread. On more threads the kernel takes products of at least {@link SPLIT_MIN_MACS} multiply-adds, split
 * by panels over helper threads (100–115 GFLOP/s on two threads, XNNPACK's pool 75–80), and XNNPACK's pool the
 * mid-sized products of more than two rows (split there, the helpers would wait for the pool's spinning
 * thread); weights over the packed-copy budget are read in place; other backends and empty weights use the
 * backend's product.
 */
function frozenProduct(x: Tensor2D, w: FrozenKernel): Tensor2D {
  if (rowsKernelFor(x, w)) {
    if (!w.packed && packedBudget.fits(w.kernel.size)) w.packed = packedBudget.keep(packPanels(w.kernel));
    return w.packed ? rowsMatmul(x, w.packed, w.kernel.shape[1]) : rowsMatmulChunked(x, w.kernel);
  }
  // A weight with no room for a packed copy is read in place even where the backend's pool would take the
  // product: the backend keeps its own packed copy of every weight it multiplies for as long as the weight
  // lives, which for a model of half the heap exhausts it.
  if (!w.packed && rowsUsable(x, w) && !packedBudget.fits(w.kernel.size)) return rowsMatmulChunked(x, w.kernel);
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
  if (!prefersPlain2d()) return tf.matMul(a, b);
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

/** `tᵀ` of a matrix: the heap kernel on wasm for float32 (the backend's Transpose is slow on large matrices). */
export function transposed(t: Tensor2D): Tensor2D {
  return t.dtype === 'float32' && transpose2dAvailable() ? transpose2d(t) : tf.transpose(t);
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
 * value or released: the backend's product costs about 5 µs a call at these shapes (16 calls a step of the
 * small bench model), and its threaded build hands them to the pool, whose wake-up costs far more.
 */
export function adapterMatmul(x: Tensor2D, w: Variable): Tensor2D {
  const fewRows = prefersPlain2d() && x.shape[0] <= 2 && w.size > 0 && rowsMatmulAvailable();
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
 * Batched product `a [g, n, k] · b [g, k, m] → [g, n, m]`, as `g` 2-D products on backends that
 * prefer them.
 */
export function batchMatmul(a: Tensor3D, b: Tensor3D): Tensor3D {
  if (!prefersPlain2d()) return tf.matMul(a, b);
  const g = a.shape[0];
  if (g === 1) return tf.expandDims(matmul2d(tf.squeeze(a, [0]) as Tensor2D, tf.squeeze(b, [0]) as Tensor2D), 0) as Tensor3D;
  // split rather than unstack, which is slower still on wasm.
  const [, n, k] = a.shape;
  const m = b.shape[2];
  const as = splitFirstAxis(a, g).map((t) => t.reshape([n, k]) as Tensor2D);
  const bs = splitFirstAxis(b, g).map((t) => t.reshape([k, m]) as Tensor2D);
  return stackFirstAxis(as.map((ai, i) => matmul2d(ai, bs[i]))) as Tensor3D;
}
