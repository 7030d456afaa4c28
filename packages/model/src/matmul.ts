import { tf } from './tf.js';
import type { Tensor, Tensor2D, Tensor3D } from './tf.js';

/**
 * Matmul layout switch. The wasm backend is fast (tens of GFLOP/s) only for 2-D products without
 * transpose flags; batched or transposed operands fall to about 1 GFLOP/s. On such backends the
 * helpers below use 2-D untransposed products in both the forward and the backward pass.
 */
export function prefersPlain2d(): boolean {
  return tf.getBackend() === 'wasm';
}

/** A frozen weight in kernel layout [in, out], with its [out, in] copy made when a gradient needs it. */
export interface FrozenKernel {
  kernel: Tensor2D;
  kernelT?: Tensor2D;
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
      value: fewRowsMatmul(xIn as Tensor2D, w.kernel),
      gradFunc: (dy: Tensor) => {
        if (!w.kernelT) w.kernelT = tf.keep(tf.transpose(w.kernel));
        return tf.matMul(dy as Tensor2D, w.kernelT);
      },
    };
  }) as any);
  return f(x) as Tensor2D;
}

/**
 * wasm's matmul has a fast single-row (matrix-vector) path: for 2-3 rows against a large matrix (decoding
 * expert and amateur rows together) separate row products beat one 2-row product (head 256×8000: 2×156 µs
 * against 444 µs measured; 512×1376: 2×59 against 161 µs). Very large kernels (512×32000) favour the
 * 2-row product again (4.6 ms against 2×2.9 ms), hence the size window.
 */
function fewRowsMatmul(x: Tensor2D, k: Tensor2D): Tensor2D {
  const rows = x.shape[0];
  if (rows < 2 || rows > 3 || k.size < 1 << 18 || k.size > 1 << 22) return tf.matMul(x, k);
  return tf.concat(tf.split(x, rows, 0).map((r) => tf.matMul(r as Tensor2D, k)), 0) as Tensor2D;
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
