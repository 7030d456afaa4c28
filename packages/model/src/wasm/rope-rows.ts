import { tf } from '../tf.js';
import type { Tensor2D } from '../tf.js';
import { ROPE_ROWS_WASM } from './rope-rows-binary.js';
import { ROPE_ROWS_KERNEL } from '@cope/backend-native';
import { heapModuleAvailable, registerHeapKernel, runHeapKernel } from './heap-module.js';

/**
 * Rotary embedding on the wasm backend in one kernel (rope-rows.wat, on the tfjs heap). The op-by-op form
 * splits each head in halves (a strided copy, slow on wasm), makes four products and a sum and difference,
 * and concatenates: eight ops over a [positions, heads, head dim] tensor per projection. The kernel computes
 * the same float32 products, sums and differences, so the values are the same bit for bit.
 */

const KERNEL_NAME = ROPE_ROWS_KERNEL;

interface RopeRowsExports {
  rope(x: number, cos: number, sin: number, out: number, n: number, heads: number, half: number): void;
}

function register(): void {
  registerHeapKernel<RopeRowsExports>(KERNEL_NAME, ROPE_ROWS_WASM, (inst, be, { x, cos, sin }) => {
    const [n, width] = x.shape;
    const half = cos.shape[1];
    const out = be.makeOutput([n, width], 'float32');
    const at = (t: tf.TensorInfo) => be.getMemoryOffset(t.dataId);
    if (n > 0) inst.rope(at(x), at(cos), at(sin), at(out), n, width / (2 * half), half);
    return out;
  });
}

/** True when the active backend can run {@link ropeRows}, for heads of dimension `headDim`. */
export function ropeRowsAvailable(headDim: number): boolean {
  return headDim % 8 === 0 && heapModuleAvailable(ROPE_ROWS_WASM);
}

/**
 * x [N, heads·hd] (each row one position's heads) rotated by its position's angles: cos, sin [N, hd/2]
 * (transformers' rotate_half convention). With `sin` negated, the gradient with respect to x. hd a
 * multiple of 8; wasm backend only ({@link ropeRowsAvailable}); no gradient of its own. @returns [N, heads·hd]
 */
export function ropeRows(x: Tensor2D, cos: Tensor2D, sin: Tensor2D): Tensor2D {
  const [n, width] = x.shape;
  const half = cos.shape[1];
  const shapes = `x [${x.shape}], cos [${cos.shape}], sin [${sin.shape}]`;
  if (cos.shape[0] !== n || sin.shape.join() !== cos.shape.join() || half % 4 !== 0 || width % (2 * half) !== 0) {
    throw new Error(`ropeRows: expected x [N, heads·2·half], cos and sin [N, half] with half a multiple of 4: ${shapes}`);
  }
  register();
  return runHeapKernel<Tensor2D>('ropeRows', KERNEL_NAME, { x, cos, sin });
}
