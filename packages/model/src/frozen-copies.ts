import { tf } from './tf.js';
import type { Tensor, Tensor1D, Tensor2D } from './tf.js';
import { transposed } from './wasm/transpose2d.js';

/**
 * A frozen weight in kernel layout [in, out], with copies made when first needed: [out, in] for
 * gradients, and on wasm panel-packed copies of both layouts for the rows kernel (forward and backward).
 */
export interface FrozenKernel {
  /** [in, out] float32; with `bf16`, int32 [in, out/2] holding the bf16 values in pairs (low half first). */
  kernel: Tensor2D;
  /** The weight is kept in bf16 (`loadModel(dir, { weights: 'bf16' })`): native backend, inference only. */
  bf16?: boolean;
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
    return tf.getBackend() !== 'wasm' || heldBytes() + size * 4 * this.heapCost <= keptHeapLimit;
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
 * step's activations (a 0.5B model's weights take nearly half the heap, a 128-token LoRA step on it as much
 * again); smaller models keep every copy the budgets allow.
 */
let keptHeapLimit = 1.75 * 1024 * 1024 * 1024;

/**
 * A `heap` limit for processes that decode and never train (`setFrozenCopyBudgets({ heap })`): a decoding step's
 * tensors are small next to a training step's, so a 0.5B model keeps its packed copies (faster decoding) and
 * still leaves room for a batch of prompts.
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


/** The bytes of transposed weight a backward product with no kept copy makes at a time. */
export function pieceBytesNow(): number {
  return pieceBytes;
}

/** Keeps `make()` as `w`'s packed copy (`transposedSide`: of `w`ᵀ) when the packed-copy budget has room. */
export function keepPacked(w: FrozenKernel, transposedSide: boolean, make: () => Tensor1D): Tensor1D | undefined {
  const key = transposedSide ? 'packedT' : 'packed';
  if (!w[key] && packedBudget.fits(w.kernel.size)) w[key] = packedBudget.keep(make());
  return w[key];
}

/** Whether a packed copy of `w` would fit the budget now. */
export function packedCopyFits(w: FrozenKernel): boolean {
  return packedCopiesFit(w.kernel.size);
}

/** Whether packed copies of `size` floats in all would fit the budget now. */
export function packedCopiesFit(size: number): boolean {
  return packedBudget.fits(size);
}

/**
 * The frozen kernel's `[out, in]` copy, made and kept when the transposed-copy budget has room for it, else
 * undefined. Tied embeddings use it as the lookup table.
 */
export function keptTranspose(w: FrozenKernel): Tensor2D | undefined {
  if (!w.kernelT && transposeBudget.fits(w.kernel.size)) w.kernelT = transposeBudget.keep(transposed(w.kernel));
  return w.kernelT;
}

