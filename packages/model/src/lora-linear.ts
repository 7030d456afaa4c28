import { tf } from './tf.js';
import type { Tensor1D, Tensor2D } from './tf.js';
import { loraScale, type LoraAdapter } from './lora-types.js';
import type { Linear, ProjectionName } from './weights.js';
import type { Rng } from '@cope/core';
import type { Ops } from './ops/ops.js';

/**
 * Which LoRA adapter each batch row uses: one adapter (or none) for every row, or one entry per row.
 * Passing `null` runs the bare model, which is how adapters are disabled; passing another adapter
 * switches to it. Rows of one batch may use different adapters (contrastive decoding, scoring).
 */
export type AdapterChoice = LoraAdapter | null | undefined | ReadonlyArray<LoraAdapter | null>;

/** The distinct adapters of a forward pass and, for each, which batch rows use it (null: every row). */
export interface RowAdapters {
  adapters: LoraAdapter[];
  rows: Array<boolean[] | null>;
}

export function resolveAdapters(choice: AdapterChoice, B: number): RowAdapters {
  if (!choice) return { adapters: [], rows: [] };
  if (!Array.isArray(choice)) return { adapters: [choice as LoraAdapter], rows: [null] };
  const list = choice as ReadonlyArray<LoraAdapter | null>;
  if (list.length !== B) throw new Error(`forward: ${list.length} per-row adapters for a batch of ${B}`);
  const adapters = [...new Set(list.filter((a): a is LoraAdapter => a != null))];
  return {
    adapters,
    rows: adapters.map((a) => {
      const used = list.map((x) => x === a);
      return used.every(Boolean) ? null : used;
    }),
  };
}

/**
 * Each active adapter's LoRA scale per row (0 on rows that do not use it): as the ops apply it, a [N, 1]
 * mask for an adapter used by some rows only and the plain scale otherwise, or a [N] vector for a fused
 * scaled add. Tensors are made on first use, inside forward's tidy.
 */
export class RowScales {
  private readonly masks: Array<Tensor2D | undefined> = [];
  private readonly vectors: Array<Tensor1D | undefined> = [];
  private readonly n: number;

  constructor(private readonly rows: RowAdapters, B: number, private readonly T: number) {
    this.n = B * T;
  }

  /** Row b·T + t gets the scale when batch row b uses adapter i. */
  private rowValues(i: number): Float32Array {
    const m = new Float32Array(this.n);
    const used = this.rows.rows[i];
    const scale = loraScale(this.rows.adapters[i].config);
    for (let r = 0; r < this.n; r++) if (!used || used[Math.floor(r / this.T)]) m[r] = scale;
    return m;
  }

  /** What the ops multiply the update by: a [N, 1] mask, or the scale when every row uses the adapter. */
  factor(i: number): Tensor2D | number {
    if (!this.rows.rows[i]) return loraScale(this.rows.adapters[i].config);
    return (this.masks[i] ??= tf.tensor2d(this.rowValues(i), [this.n, 1]));
  }

  /** The per-row scales [N]. */
  vector(i: number): Tensor1D {
    return (this.vectors[i] ??= tf.tensor1d(this.rowValues(i)));
  }
}

/** True for a tf.Variable being trained (full-parameter mode); frozen weights take the cheaper path. */
export function isTrainable(t: tf.Tensor): boolean {
  return t instanceof tf.Variable && t.trainable;
}

/**
 * A projection with LoRA: x [N, in] → [N, out], the frozen (or trainable) weight plus each active adapter's
 * update `(dropout(x) · A) · B · scale`, masked to the rows that use it. `rng`: training, LoRA dropout on.
 */
export function loraLinear(ops: Ops, x: Tensor2D, w: Linear, layer: number, proj: ProjectionName, rows: RowAdapters, scales: RowScales, rng?: Rng): Tensor2D {
  let y = isTrainable(w.kernel) ? ops.matmul(x, w.kernel) : ops.frozenMatmul(x, w);
  if (w.bias) y = tf.add(y, w.bias);
  rows.adapters.forEach((adapter, i) => {
    const pair = adapter.layers[layer]?.[proj];
    if (!pair) return;
    const p = adapter.config.dropout;
    const xin = rng && p > 0 ? ops.dropout(x, p, rng.seed()) : x;
    const delta = ops.adapterMatmul(ops.adapterMatmul(xin, pair.a), pair.b);
    y = ops.addScaled(y, delta, () => scales.factor(i), () => scales.vector(i));
  });
  return y;
}
