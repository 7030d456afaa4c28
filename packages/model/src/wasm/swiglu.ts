import type { Tensor2D } from '../tf.js';
import { SWIGLU_WASM } from './swiglu-binary.js';
import { SWIGLU_KERNEL } from '@cope/backend-native';
import { heapModuleAvailable, registerHeapKernel, runHeapKernel } from './heap-module.js';

/**
 * SwiGLU's gating `gate · sigmoid(gate) · up` on the wasm backend in one kernel (swiglu.wat, on the tfjs heap)
 * instead of three backend ops, with XNNPACK's sigmoid step for step: bitwise the backend's values. No
 * gradient (training keeps the ops).
 */

const KERNEL_NAME = SWIGLU_KERNEL;

interface SwiGluExports {
  swiglu(gate: number, up: number, out: number, n: number): void;
}

function register(): void {
  registerHeapKernel<SwiGluExports>(KERNEL_NAME, SWIGLU_WASM, (inst, be, { gate, up }) => {
    const out = be.makeOutput(gate.shape, 'float32');
    const n = gate.shape.reduce((a, b) => a * b, 1);
    if (n > 0) inst.swiglu(be.getMemoryOffset(gate.dataId), be.getMemoryOffset(up.dataId), be.getMemoryOffset(out.dataId), n);
    return out;
  });
}

/** True when the active backend can run {@link swiGlu} on `size` values. */
export function swiGluAvailable(size: number): boolean {
  return size % 4 === 0 && heapModuleAvailable(SWIGLU_WASM);
}

/**
 * `gate · sigmoid(gate) · up` elementwise, gate and up of one shape [N, F] (N·F a multiple of 4). wasm
 * backend only ({@link swiGluAvailable}); no gradient. @returns [N, F]
 */
export function swiGlu(gate: Tensor2D, up: Tensor2D): Tensor2D {
  if (gate.shape.join() !== up.shape.join() || gate.size % 4 !== 0) {
    throw new Error(`swiGlu: expected gate and up of one shape with a multiple of 4 values: gate [${gate.shape}], up [${up.shape}]`);
  }
  register();
  return runHeapKernel<Tensor2D>('swiGlu', KERNEL_NAME, { gate, up });
}
