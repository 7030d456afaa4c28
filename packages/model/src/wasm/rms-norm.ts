import type { Tensor1D, Tensor2D } from '../tf.js';
import { RMS_NORM_WASM } from './rms-norm-binary.js';
import { RMS_NORM_KERNEL } from '@cope/backend-native';
import { heapModuleAvailable, registerHeapKernel, runHeapKernel } from './heap-module.js';

/**
 * RMSNorm on the wasm backend in one kernel (rms-norm.wat, on the tfjs heap) instead of six backend ops
 * (square, mean, add, rsqrt, two products): 9 norms a decoding step of the small bench model are 45 ops
 * fewer. Same arithmetic in the same order, so bitwise the same values. No gradient (training keeps the ops).
 */

const KERNEL_NAME = RMS_NORM_KERNEL;

interface RmsNormExports {
  rmsnorm(x: number, w: number, out: number, n: number, h: number, eps: number): void;
}

function register(): void {
  registerHeapKernel<RmsNormExports>(KERNEL_NAME, RMS_NORM_WASM, (inst, be, { x, w }, { eps }) => {
    const [n, h] = x.shape;
    const out = be.makeOutput([n, h], 'float32');
    if (n > 0) inst.rmsnorm(be.getMemoryOffset(x.dataId), be.getMemoryOffset(w.dataId), be.getMemoryOffset(out.dataId), n, h, eps);
    return out;
  });
}

/** True when the active backend can run {@link rmsNormRows} on rows of width `h`. */
export function rmsNormAvailable(h: number): boolean {
  return h > 0 && h % 4 === 0 && heapModuleAvailable(RMS_NORM_WASM);
}

/**
 * `x · rsqrt(mean(x², -1) + eps) · w` for x [N, H], w [H] (H a multiple of 4), as tfjs computes it op by op.
 * wasm backend only ({@link rmsNormAvailable}); no gradient. @returns [N, H]
 */
export function rmsNormRows(x: Tensor2D, w: Tensor1D, eps: number): Tensor2D {
  const [, h] = x.shape;
  if (w.shape[0] !== h || h % 4 !== 0) throw new Error(`rmsNormRows: expected x [N, H] and w [H] with H a multiple of 4: x [${x.shape}], w [${w.shape}]`);
  register();
  return runHeapKernel<Tensor2D>('rmsNormRows', KERNEL_NAME, { x, w }, { eps });
}
