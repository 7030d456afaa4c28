import { tf } from '../tf.js';
import type { Tensor2D, Tensor3D, Tensor4D } from '../tf.js';
import type { Ops } from './ops.js';

/**
 * The operations as plain tfjs ops: any backend (cpu, tensorflow); the native and wasm sets start from it.
 * Attention stacks the query heads that share a kv head, so each (batch, kv head) is one product.
 */
export const tfOps: Ops = {
  beginForward() {},
  rmsNorm(x, w, eps) {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), w);
  },
  swiGlu: (gate, up) => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up),
  residualAdder: () => (h, x) => tf.add(h, x),
  addScaled: (y, delta, factor) => tf.add(y, tf.mul(delta, factor())),
  gatherRows: (table, ids) => tf.gather(table, ids),
  oneHotEmbeddingGrad: false,
  appendPositions: (past, next, axis) => tf.concat([past, next], axis),
  attention(q, kT, v, bias, c, B, Tk) {
    const { T } = bias;
    const g = c.numHeads / c.numKvHeads;
    const kvH = c.numKvHeads;
    const hd = c.headDim;
    const qg = stackedQueries(q, c, B, T);
    const scores = tf.matMul(qg, kT.reshape([B * kvH, hd, Tk]) as Tensor3D).reshape([B, kvH, g, T, Tk]);
    const probs = tf.softmax(tf.add(scores, bias.tensor())).reshape([B * kvH, g * T, Tk]) as Tensor3D;
    const out = tf.matMul(probs, v.reshape([B * kvH, Tk, hd]) as Tensor3D).reshape([B, kvH, g, T, hd]);
    return tf.transpose(out, [0, 3, 1, 2, 4]).reshape([B * T, c.numHeads * hd]) as Tensor2D;
  },
  // Two broadcast multiply-sums instead of 2·B·kvH small products: their op count does not grow with the
  // batch, which keeps contrastive decoding's two rows close to the cost of one.
  attentionStep(q, k, vT, bias, c, B, Tk) {
    const g = c.numHeads / c.numKvHeads;
    const kvH = c.numKvHeads;
    const hd = c.headDim;
    const qg = tf.mul(q, 1 / Math.sqrt(hd)).reshape([B, kvH, g, 1, hd]);
    const scores = tf.sum(tf.mul(qg, k.reshape([B, kvH, 1, Tk, hd])), -1); // [B, kvH, g, Tk]
    const probs = tf.softmax(tf.add(scores, bias.tensor().reshape([B, 1, 1, Tk])));
    const out = tf.sum(tf.mul(probs.reshape([B, kvH, g, 1, Tk]), vT.reshape([B, kvH, 1, hd, Tk])), -1); // [B, kvH, g, hd]
    return out.reshape([B, c.numHeads * hd]) as Tensor2D;
  },
  stepAttentionAlways: false,
  ropeKernel: () => false,
  frozenMatmul: (x, w) => tf.matMul(x, w.kernel),
  matmul: (a, b) => tf.matMul(a, b),
  adapterMatmul: (x, w) => tf.matMul(x, w as unknown as Tensor2D),
  batchMatmul: (a, b) => tf.matMul(a, b),
  transpose: (t) => tf.transpose(t),
  dropout: (x, rate, seed) => tf.dropout(x, rate, undefined, seed) as Tensor2D,
};

/**
 * Queries scaled by 1/√hd with the heads sharing one kv head stacked: q [B, T, heads, hd] → [B·kvH, g·T, hd]
 * (g = heads / kvH), so each (batch, kv head) is one 2-D product.
 */
export function stackedQueries(q: Tensor4D, c: { numHeads: number; numKvHeads: number; headDim: number }, B: number, T: number): Tensor3D {
  const kvH = c.numKvHeads;
  const g = c.numHeads / kvH;
  const hd = c.headDim;
  return tf.transpose(tf.mul(q, 1 / Math.sqrt(hd)).reshape([B, T, kvH, g, hd]), [0, 2, 3, 1, 4]).reshape([B * kvH, g * T, hd]) as Tensor3D;
}
