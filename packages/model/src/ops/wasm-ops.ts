import { tf } from '../tf.js';
import type { Tensor1D, Tensor2D, Tensor4D } from '../tf.js';
import { taping } from '../taping.js';
import { noteForwardStart } from '../frozen-copies.js';
import { adapterMatmul, batchMatmul, frozenMatmul, matmul2d, splitFirstAxis, stackFirstAxis } from '../wasm/products.js';
import { transposed } from '../wasm/transpose2d.js';
import { stepAttention, stepAttentionAvailable } from '../wasm/step-attention.js';
import { gatherRows, gatherRowsAvailable } from '../wasm/gather-rows.js';
import { rmsNormAvailable, rmsNormRows } from '../wasm/rms-norm.js';
import { swiGlu, swiGluAvailable } from '../wasm/swiglu.js';
import { scaledAdd, scaledAddAvailable } from '../wasm/scaled-add.js';
import { concatRows, concatRowsAvailable } from '../wasm/concat-rows.js';
import { ropeRowsAvailable } from '../wasm/rope-rows.js';
import type { Ops } from './ops.js';
import { stackedQueries, tfOps } from './tf-ops.js';

/**
 * tfjs-backend-wasm with this package's heap kernels (src/wasm/): every product 2-D and untransposed (the only
 * fast shape there), frozen weights on the rows kernel, and outside a gradient tape one kernel each for
 * RMSNorm, SwiGLU, the scaled and residual adds, row gathers, cache appends and the decoding step's attention.
 * Each kernel computes its ops' arithmetic in the same order: bitwise the plain ops' values.
 */
export const wasmOps: Ops = {
  ...tfOps,
  beginForward: noteForwardStart,
  rmsNorm: (x, w, eps) => (!taping() && rmsNormAvailable(x.shape[1]) ? rmsNormRows(x, w, eps) : tfOps.rmsNorm(x, w, eps)),
  swiGlu: (gate, up) => (!taping() && swiGluAvailable(gate.size) ? swiGlu(gate, up) : tfOps.swiGlu(gate, up)),
  residualAdder() {
    // x · 1 + h is h + x exactly, without the several µs the backend's Add costs a call on small tensors.
    const ones = new Map<number, Tensor1D>();
    return (h, x) => {
      const [n, width] = h.shape;
      if (taping() || !scaledAddAvailable(width)) return tf.add(h, x);
      let one = ones.get(n);
      if (!one) ones.set(n, (one = tf.ones([n]) as Tensor1D));
      return scaledAdd(h, x, one);
    };
  },
  addScaled: (y, delta, factor, vector) => (!taping() && scaledAddAvailable(y.shape[1]) ? scaledAdd(y, delta, vector()) : tfOps.addScaled(y, delta, factor, vector)),
  gatherRows: (table, ids) => (gatherRowsAvailable() ? gatherRows(table, ids) : tfOps.gatherRows(table, ids)),
  // wasm has no UnsortedSegmentSum kernel, which gather's own gradient needs.
  oneHotEmbeddingGrad: true,
  appendPositions(past, next, axis) {
    if (taping() || !concatRowsAvailable()) return tfOps.appendPositions(past, next, axis);
    // The axes before `axis` are the rows of 2-D views: two bulk copies a row.
    const rows = past.shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const out = concatRows(past.reshape([rows, -1]) as Tensor2D, next.reshape([rows, -1]) as Tensor2D);
    const shape = [...past.shape] as [number, number, number, number];
    shape[axis] += next.shape[axis];
    return out.reshape(shape) as Tensor4D;
  },
  // Slicing is slow on wasm (~40M floats/s), so only q, k, v and the output gradient are sliced; scores, mask,
  // softmax and probabilities stay per (batch, kv head) slice (the probabilities, g·T×Tk, are the largest).
  attention(q, kT, v, bias, c, B, Tk) {
    const { T } = bias;
    const g = c.numHeads / c.numKvHeads;
    const kvH = c.numKvHeads;
    const hd = c.headDim;
    const G = B * kvH;
    const qs = splitFirstAxis(stackedQueries(q, c, B, T), G);
    const ks = splitFirstAxis(kT.reshape([G, hd, Tk]), G);
    const vs = splitFirstAxis(v.reshape([G, Tk, hd]), G);
    const host = bias.host();
    const biases = Array.from({ length: B }, (_, b) => tf.tensor3d(host.subarray(b * T * Tk, (b + 1) * T * Tk), [1, T, Tk]));
    const outs = qs.map((qi, i) => {
      const scores = matmul2d(qi.reshape([g * T, hd]) as Tensor2D, ks[i].reshape([hd, Tk]) as Tensor2D).reshape([g, T, Tk]);
      const probs = tf.softmax(tf.add(scores, biases[Math.floor(i / kvH)])).reshape([g * T, Tk]) as Tensor2D;
      return matmul2d(probs, vs[i].reshape([Tk, hd]) as Tensor2D);
    });
    const out = stackFirstAxis(outs).reshape([B, kvH, g, T, hd]);
    return tf.transpose(out, [0, 3, 1, 2, 4]).reshape([B * T, c.numHeads * hd]) as Tensor2D;
  },
  attentionStep(q, k, vT, bias, c, B, Tk) {
    const hd = c.headDim;
    if (hd % 4 !== 0 || !stepAttentionAvailable()) return tfOps.attentionStep(q, k, vT, bias, c, B, Tk);
    const out = stepAttention(q.reshape([B, c.numHeads, hd]) as tf.Tensor3D, k, vT, bias.tensor().reshape([B, Tk]) as Tensor2D, 1 / Math.sqrt(hd));
    return out.reshape([B, c.numHeads * hd]) as Tensor2D;
  },
  stepAttentionAlways: true,
  ropeKernel: (headDim) => ropeRowsAvailable(headDim),
  frozenMatmul,
  matmul: (a, b) => matmul2d(a, b),
  adapterMatmul,
  batchMatmul,
  transpose: transposed,
};
