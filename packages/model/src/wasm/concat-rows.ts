import type { Tensor2D } from '../tf.js';
import { CONCAT_ROWS_WASM } from './concat-rows-binary.js';
import { heapModuleAvailable, registerHeapKernel, runHeapKernel } from './heap-module.js';

/**
 * Two float32 matrices side by side on the wasm backend (concat-rows.wat, on the tfjs heap): two bulk copies a
 * row. tfjs-wasm's Concat runs in JavaScript, a typed-array view and a copy per row and input, which made the KV
 * cache's growth about a tenth of a small decoding step. The same values (a copy).
 */

const KERNEL_NAME = 'CopeConcatRows';

interface ConcatRowsExports {
  concat2(a: number, b: number, out: number, rows: number, aBytes: number, bBytes: number): void;
}

function register(): void {
  registerHeapKernel<ConcatRowsExports>(KERNEL_NAME, CONCAT_ROWS_WASM, (inst, be, { a, b }) => {
    const [rows, ca] = a.shape;
    const cb = b.shape[1];
    const out = be.makeOutput([rows, ca + cb], 'float32');
    if (rows > 0 && ca + cb > 0) inst.concat2(be.getMemoryOffset(a.dataId), be.getMemoryOffset(b.dataId), be.getMemoryOffset(out.dataId), rows, ca * 4, cb * 4);
    return out;
  });
}

/** True when the active backend can run {@link concatRows}. */
export function concatRowsAvailable(): boolean {
  return heapModuleAvailable(CONCAT_ROWS_WASM);
}

/**
 * `[a, b]` along the columns: a [R, ca], b [R, cb] (float32) → [R, ca + cb]. wasm backend only
 * ({@link concatRowsAvailable}); no gradient.
 */
export function concatRows(a: Tensor2D, b: Tensor2D): Tensor2D {
  if (a.shape[0] !== b.shape[0]) throw new Error(`concatRows: a [${a.shape}] and b [${b.shape}] need the same number of rows`);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error(`concatRows: needs float32 inputs, got ${a.dtype} and ${b.dtype}`);
  register();
  return runHeapKernel<Tensor2D>('concatRows', KERNEL_NAME, { a, b });
}
