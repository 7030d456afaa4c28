import { tf } from '../tf.js';
import type { Tensor1D, Tensor2D } from '../tf.js';
import { SCALED_ADD_WASM } from './scaled-add-binary.js';
import { SCALED_ADD_KERNEL } from '@cope/backend-native';
import { heapModuleAvailable, registerHeapKernel, runHeapKernel } from './heap-module.js';

/**
 * `y + delta · scale` with a scale per row (LoRA's update masked to the rows that use the adapter) on the
 * wasm backend in one kernel (scaled-add.wat, on the tfjs heap), bitwise the backend's Multiply and Add. The
 * broadcast multiply is the op the threaded build splits over its pool even for a decoding step's two rows
 * (each wake-up costing more than the arithmetic). No gradient (training keeps the ops).
 */

const KERNEL_NAME = SCALED_ADD_KERNEL;

interface ScaledAddExports {
  scaledAdd(y: number, delta: number, scale: number, out: number, rows: number, cols: number): void;
}

function register(): void {
  registerHeapKernel<ScaledAddExports>(KERNEL_NAME, SCALED_ADD_WASM, (inst, be, { y, delta, scale }) => {
    const [rows, cols] = y.shape;
    const out = be.makeOutput([rows, cols], 'float32');
    const at = (t: tf.TensorInfo) => be.getMemoryOffset(t.dataId);
    if (rows > 0) inst.scaledAdd(at(y), at(delta), at(scale), at(out), rows, cols);
    return out;
  });
}

/** True when the active backend can run {@link scaledAdd} on rows of `cols` values. */
export function scaledAddAvailable(cols: number): boolean {
  return cols > 0 && cols % 4 === 0 && heapModuleAvailable(SCALED_ADD_WASM);
}

/**
 * `y + delta · scale[:, None]` for y, delta [R, C] (C a multiple of 4) and scale [R]. wasm backend only
 * ({@link scaledAddAvailable}); no gradient. @returns [R, C]
 */
export function scaledAdd(y: Tensor2D, delta: Tensor2D, scale: Tensor1D): Tensor2D {
  const [rows, cols] = y.shape;
  if (delta.shape.join() !== y.shape.join() || scale.shape.join() !== `${rows}` || cols % 4 !== 0) {
    throw new Error(`scaledAdd: expected y and delta [R, C] (C a multiple of 4) and scale [R]: y [${y.shape}], delta [${delta.shape}], scale [${scale.shape}]`);
  }
  register();
  return runHeapKernel<Tensor2D>('scaledAdd', KERNEL_NAME, { y, delta, scale });
}
