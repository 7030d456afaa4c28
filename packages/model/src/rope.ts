import type { ModelConfig } from './config.js';

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

  /** Tables for a flat list of positions: `[cos, sin]`, each of length positions.length * headDim/2. */
  lookup(positions: readonly number[]): [Float32Array, Float32Array] {
    const half = this.inv.length;
    this.ensure(Math.max(0, ...positions));
    const cos = new Float32Array(positions.length * half);
    const sin = new Float32Array(positions.length * half);
    positions.forEach((p, k) => {
      cos.set(this.cos.subarray(p * half, (p + 1) * half), k * half);
      sin.set(this.sin.subarray(p * half, (p + 1) * half), k * half);
    });
    return [cos, sin];
  }
}
