import { tf } from './tf.js';
import type { Tensor, Tensor2D, Tensor4D } from './tf.js';
import type { ModelConfig } from './config.js';
import { taping } from './taping.js';
import { ropeRows, ropeRowsAvailable } from './wasm/rope-rows.js';

/**
 * RoPE inverse frequencies `1 / theta^(2i/d)`, with Llama-3 scaling applied when configured
 * (the same piecewise rule as transformers' `_compute_llama3_parameters`).
 */
export function ropeInvFreq(c: ModelConfig): Float64Array {
  const half = c.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(c.ropeTheta, (2 * i) / c.headDim);
  const s = c.ropeScaling;
  if (!s) return inv;
  const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const wavelen = (2 * Math.PI) / inv[i];
    if (wavelen > lowWavelen) inv[i] = inv[i] / s.factor;
    else if (wavelen >= highWavelen) {
      const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      inv[i] = (1 - smooth) * (inv[i] / s.factor) + smooth * inv[i];
    }
  }
  return inv;
}

/**
 * Cosine and sine tables for the given positions, each [positions.length * headDim/2] row-major,
 * cached per model config so decoding does not recompute them.
 */
export class RopeTables {
  private readonly inv: Float64Array;
  private cos = new Float32Array(0);
  private sin = new Float32Array(0);
  private filled = 0;

  constructor(config: ModelConfig) {
    this.inv = ropeInvFreq(config);
  }

  private ensure(maxPos: number): void {
    if (maxPos < this.filled) return;
    const half = this.inv.length;
    const n = Math.max(maxPos + 1, this.filled * 2, 256);
    const cos = new Float32Array(n * half);
    const sin = new Float32Array(n * half);
    cos.set(this.cos);
    sin.set(this.sin);
    for (let p = this.filled; p < n; p++) {
      for (let i = 0; i < half; i++) {
        // float32 frequency times position, as transformers computes it, then cos/sin.
        const angle = Math.fround(Math.fround(this.inv[i]) * p);
        cos[p * half + i] = Math.cos(angle);
        sin[p * half + i] = Math.sin(angle);
      }
    }
    this.cos = cos;
    this.sin = sin;
    this.filled = n;
  }

  /**
   * Tables for a flat list of positions: `[cos, sin]`, each of length positions.length * headDim/2; written into
   * `into` when given (arrays of at least that length, e.g. a decoding session's own), else new arrays.
   */
  lookup(positions: readonly number[], into?: [Float32Array, Float32Array]): [Float32Array, Float32Array] {
    const half = this.inv.length;
    this.ensure(Math.max(0, ...positions));
    const cos = into ? into[0] : new Float32Array(positions.length * half);
    const sin = into ? into[1] : new Float32Array(positions.length * half);
    positions.forEach((p, k) => {
      cos.set(this.cos.subarray(p * half, (p + 1) * half), k * half);
      sin.set(this.sin.subarray(p * half, (p + 1) * half), k * half);
    });
    return [cos, sin];
  }
}

const tablesByConfig = new WeakMap<ModelConfig, RopeTables>();

/** The rotary tables of a model config, shared by every forward pass and decoding session of it. */
export function ropeTablesFor(c: ModelConfig): RopeTables {
  let r = tablesByConfig.get(c);
  if (!r) tablesByConfig.set(c, (r = new RopeTables(c)));
  return r;
}

/**
 * Rotary embedding of one forward's positions (transformers' rotate_half convention). On wasm, one kernel
 * per projection (wasm/rope-rows.ts) with a custom gradient (the same kernel with sin negated); elsewhere
 * split, four products, a difference and a sum, concatenated. Bitwise the same values either way.
 */
export class Rotary {
  private readonly kernel: boolean;
  /** cos and sin: [B·T, hd/2] for the kernel, [B, T, 1, hd/2] for the ops; made on first use. */
  private tables?: [Tensor, Tensor];

  /**
   * cosHost, sinHost: [B·T, hd/2] row-major (from {@link RopeTables.lookup}). `useKernel` defaults to the
   * kernel wherever it runs (tests compare the two forms).
   */
  constructor(private readonly cosHost: Float32Array, private readonly sinHost: Float32Array, private readonly B: number, private readonly T: number, private readonly half: number, useKernel?: boolean) {
    this.kernel = useKernel ?? ropeRowsAvailable(2 * half);
  }

  /** Whether the rotary kernel rotates (else split, products, concat). */
  get usesKernel(): boolean {
    return this.kernel;
  }

  /** cos and sin, [B·T, hd/2] for the kernel, [B, T, 1, hd/2] for the ops. */
  tablesOf(): [Tensor, Tensor] {
    const shape = this.kernel ? [this.B * this.T, this.half] : [this.B, this.T, 1, this.half];
    return (this.tables ??= [tf.tensor(this.cosHost, shape), tf.tensor(this.sinHost, shape)]);
  }

  /** x [B·T, heads·hd] → rotated [B, T, heads, hd]. */
  apply(x: Tensor2D, heads: number): Tensor4D {
    const { B, T, half } = this;
    const [cos, sin] = this.tablesOf();
    if (!this.kernel) {
      const [x1, x2] = tf.split(x.reshape([B, T, heads, 2 * half]), [half, half], 3);
      return tf.concat([tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x2, cos), tf.mul(x1, sin))], 3) as Tensor4D;
    }
    if (!taping()) return ropeRows(x, cos as Tensor2D, sin as Tensor2D).reshape([B, T, heads, 2 * half]);
    // The rotation's transpose is the rotation by the opposite angle; the tables are forward's, kept for the
    // backward pass as customGrad inputs.
    const f = tf.customGrad(((xIn: Tensor, cos: Tensor, sin: Tensor, save: (ts: Tensor[]) => void) => {
      save([cos, sin]);
      return {
        value: ropeRows(xIn as Tensor2D, cos as Tensor2D, sin as Tensor2D),
        gradFunc: (dy: Tensor, saved: Tensor[]) => [ropeRows(dy as Tensor2D, saved[0] as Tensor2D, tf.neg(saved[1]) as Tensor2D), tf.zerosLike(saved[0]), tf.zerosLike(saved[1])],
      };
    }) as any);
    return (f(x, cos, sin) as Tensor2D).reshape([B, T, heads, 2 * half]);
  }
}
