import { tf } from './tf.js';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D } from './tf.js';
import { packPanels, rowsMatmul, rowsMatmulAvailable } from './kernels/rows-matmul.js';

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
 * gradients, and panel-packed for one- and two-row products (decoding on wasm).
 */
export interface FrozenKernel {
  kernel: Tensor2D;
  kernelT?: Tensor2D;
  packed?: Tensor1D;
}

/**
 * `x [n, in] · kernel [in, out] → [n, out]` for a frozen kernel: the gradient flows to `x` only,
 * computed as `dy · kernelT` (2-D, untransposed).
 */
export function matmulFrozen(x: Tensor2D, w: FrozenKernel): Tensor2D {
  if (!prefersPlain2d()) return tf.matMul(x, w.kernel);
  const f = tf.customGrad(((xIn: Tensor, save: (ts: Tensor[]) => void) => {
    save([]);
    return {
      value: fewRowsMatmul(xIn as Tensor2D, w),
      gradFunc: (dy: Tensor) => {
        if (!w.kernelT) w.kernelT = tf.keep(tf.transpose(w.kernel));
        return tf.matMul(dy as Tensor2D, w.kernelT);
      },
    };
  }) as any);
  return f(x) as Tensor2D;
}

/**
 * Decoding steps multiply one or two rows (contrastive decoding: expert and amateur) by each weight.
 * On wasm these go to the rows kernel (kernels/rows-matmul.ts), which reads the weight once for both
 * rows; other row counts and backends use the backend's product.
 */
function fewRowsMatmul(x: Tensor2D, w: FrozenKernel): Tensor2D {
  if (x.shape[0] > 2 || w.kernel.size === 0 || !rowsMatmulAvailable()) return tf.matMul(x, w.kernel);
  if (!w.packed) w.packed = tf.keep(packPanels(w.kernel));
  return rowsMatmul(x, w.packed, w.kernel.shape[1]);
}

/**
 * `a [n, k] · b [k, m] → [n, m]` where both operands get gradients, with 2-D untransposed products
 * in the backward pass (the explicit transposes are cheap copies next to the products).
 */
export function matmul2d(a: Tensor2D, b: Tensor2D): Tensor2D {
  if (!prefersPlain2d()) return tf.matMul(a, b);
  const f = tf.customGrad(((aIn: Tensor, bIn: Tensor, save: (ts: Tensor[]) => void) => {
    save([aIn, bIn]);
    return {
      value: tf.matMul(aIn as Tensor2D, bIn as Tensor2D),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sa, sb] = saved as Tensor2D[];
        return [tf.matMul(dy as Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as Tensor2D)];
      },
    };
  }) as any);
  return f(a, b) as Tensor2D;
}

/**
 * Batched product `a [g, n, k] · b [g, k, m] → [g, n, m]`, as `g` 2-D products on backends that
 * prefer them.
 */
export function batchMatmul(a: Tensor3D, b: Tensor3D): Tensor3D {
  if (!prefersPlain2d()) return tf.matMul(a, b);
  const g = a.shape[0];
  if (g === 1) return tf.expandDims(matmul2d(tf.squeeze(a, [0]) as Tensor2D, tf.squeeze(b, [0]) as Tensor2D), 0) as Tensor3D;
  // split (a contiguous copy) rather than unstack, which is several times slower on wasm.
  const [, n, k] = a.shape;
  const m = b.shape[2];
  const as = tf.split(a, g, 0).map((t) => t.reshape([n, k]) as Tensor2D);
  const bs = tf.split(b, g, 0).map((t) => t.reshape([k, m]) as Tensor2D);
  return tf.stack(as.map((ai, i) => matmul2d(ai, bs[i]))) as Tensor3D;
}
