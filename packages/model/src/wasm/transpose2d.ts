import { tf } from '../tf.js';
import type { Tensor2D } from '../tf.js';
import { TRANSPOSE2D_WASM } from './transpose2d-binary.js';
import { heapModuleAvailable, registerHeapKernel, runHeapKernel } from './heap-module.js';

/**
 * A float32 matrix transposed on the wasm backend (transpose2d.wat, on the tfjs heap), in 4×4 register tiles.
 * tfjs-wasm's Transpose is about 50–80 times slower than a copy of the same matrix, and every backward
 * product of training transposes its saved operands. The same values
 * (a permutation); its gradient is the transpose of the incoming gradient.
 */

const KERNEL_NAME = 'CopeTranspose2d';

interface TransposeExports {
  transpose(x: number, out: number, rows: number, cols: number): void;
}

let registered = false;
function register(): void {
  if (registered) return;
  registered = true;
  registerHeapKernel<TransposeExports>(KERNEL_NAME, TRANSPOSE2D_WASM, (inst, be, { x }) => {
    const [rows, cols] = x.shape;
    const out = be.makeOutput([cols, rows], 'float32');
    if (rows > 0 && cols > 0) inst.transpose(be.getMemoryOffset(x.dataId), be.getMemoryOffset(out.dataId), rows, cols);
    return out;
  });
  tf.registerGradient({ kernelName: KERNEL_NAME, gradFunc: (dy) => ({ x: () => transpose2d(dy as Tensor2D) }) });
}

/** True when the active backend can run {@link transpose2d}. */
export function transpose2dAvailable(): boolean {
  return heapModuleAvailable(TRANSPOSE2D_WASM);
}

/** `xᵀ` for a float32 x [R, C] → [C, R] (wasm backend only: {@link transpose2dAvailable}); with a gradient. */
export function transpose2d(x: Tensor2D): Tensor2D {
  if (x.rank !== 2 || x.dtype !== 'float32') throw new Error(`transpose2d: needs a float32 matrix, got ${x.dtype} [${x.shape}]`);
  register();
  return runHeapKernel<Tensor2D>('transpose2d', KERNEL_NAME, { x });
}

/** `tᵀ` of a matrix: the heap kernel on wasm for float32 (the backend's Transpose is slow on large matrices). */
export function transposed(t: Tensor2D): Tensor2D {
  return t.dtype === 'float32' && transpose2dAvailable() ? transpose2d(t) : tf.transpose(t);
}
