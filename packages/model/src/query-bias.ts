import { tf } from './tf.js';
import type { Tensor } from './tf.js';
import type { QueryBias } from './ops/ops.js';

/** The additive mask value of a key a query may not attend (finite, so a fully masked row stays uniform, as in transformers). */
const MASKED = -1e9;
/** Biases up to this many floats are filled on the host and uploaded. */
const UPLOAD_MAX_FLOATS = 16 * 1024;

/**
 * The attention bias of T query positions (absolute positions pastLen .. pastLen+T-1) against the keys of
 * `mask` [B][Tk] (1 token, 0 padding): query i may attend key j ≤ i that is a token. `lastOnly` keeps the last
 * query of each row. The host array is filled on first use only (the wasm attention slices it); larger tensors
 * are built from the [B, Tk] mask and a causal comparison on the backend, so nothing of size B·T·Tk is uploaded.
 */
export class CausalBias implements QueryBias {
  readonly T: number;
  private hostArray?: Float32Array;
  private tensorValue?: Tensor;

  constructor(private readonly mask: number[][], private readonly pastLen: number, private readonly queries: number, private readonly lastOnly = false) {
    this.T = lastOnly ? 1 : queries;
  }

  /** The first query position this bias covers. */
  private get first(): number {
    return this.pastLen + (this.lastOnly ? this.queries - 1 : 0);
  }

  host(): Float32Array {
    if (this.hostArray) return this.hostArray;
    const { mask, T, first } = this;
    const B = mask.length;
    const Tk = mask[0].length;
    const bias = new Float32Array(B * T * Tk);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const i = first + t;
        for (let j = 0; j < Tk; j++) bias[(b * T + t) * Tk + j] = j <= i && mask[b][j] ? 0 : MASKED;
      }
    }
    return (this.hostArray = bias);
  }

  tensor(): Tensor {
    if (this.tensorValue) return this.tensorValue;
    const { mask, T, first } = this;
    const B = mask.length;
    const Tk = mask[0].length;
    // Small biases (decoding steps) upload faster than a handful of ops build them.
    if (this.hostArray || B * T * Tk <= UPLOAD_MAX_FLOATS) return (this.tensorValue = tf.tensor4d(this.host(), [B, 1, T, Tk]).reshape([B, 1, 1, T, Tk]));
    const tokens = tf.tensor2d(mask.flat().map((m) => (m ? 1 : 0)), [B, Tk], 'bool').reshape([B, 1, 1, 1, Tk]);
    const causal = tf.lessEqual(tf.range(0, Tk, 1, 'int32').reshape([1, Tk]), tf.range(first, first + T, 1, 'int32').reshape([T, 1])).reshape([1, 1, 1, T, Tk]);
    return (this.tensorValue = tf.where(tf.logicalAnd(causal, tokens), tf.scalar(0), tf.scalar(MASKED)));
  }
}

/**
 * The additive mask of a query after every key of `mask` [B][Tk]: [B, Tk], 0 for a token, the masked value for padding
 * (the causal bias of one query at the last position).
 */
export function keyBias(mask: number[][]): Float32Array {
  return new CausalBias(mask, (mask[0]?.length ?? 0) - 1, 1).host();
}
