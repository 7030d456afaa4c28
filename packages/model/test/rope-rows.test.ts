import { Rng } from '@cope/core';
import { tf } from '@cope/model';
import { ropeRows, ropeRowsAvailable } from '../src/wasm/rope-rows.js';
import { Rotary } from '../src/rope.js';
import { setupBackend, onWasm, bits } from './helpers.js';

beforeAll(setupBackend);

/** Random angles' cos and sin as float32 host tables [n, half], and random x [n, heads·2·half]. */
function inputs(n: number, heads: number, half: number, seed: number) {
  const rng = new Rng(seed);
  const angle = Float64Array.from({ length: n * half }, () => rng.normal() * 3);
  return {
    cos: Float32Array.from(angle, Math.cos),
    sin: Float32Array.from(angle, Math.sin),
    x: Float32Array.from({ length: n * heads * 2 * half }, () => rng.normal()),
  };
}

describe('RoPE kernel (rotary embedding of positions on wasm)', () => {
  test('is available on the wasm backend for head dims that are multiples of 8', () => {
    if (!onWasm()) return;
    expect(ropeRowsAvailable(32)).toBe(true);
    expect(ropeRowsAvailable(8)).toBe(true);
    expect(ropeRowsAvailable(12)).toBe(false);
  });

  test.each([
    [1, 1, 4], [7, 3, 4], [64, 8, 16], [130, 2, 32],
  ])('%i positions × %i heads × head dim 2·%i: a float64 rotation within 1e-6, and the op-by-op form bit for bit', (n, heads, half) => {
    if (!onWasm()) return;
    const { cos, sin, x } = inputs(n, heads, half, n * 100 + heads * 10 + half);
    const before = tf.memory().numTensors;
    const xt = tf.tensor2d(x, [n, heads * 2 * half]);
    const ct = tf.tensor2d(cos, [n, half]);
    const st = tf.tensor2d(sin, [n, half]);
    const got = ropeRows(xt, ct, st);
    const data = got.dataSync();
    let worst = 0;
    for (let p = 0; p < n; p++) {
      for (let h = 0; h < heads; h++) {
        const o = (p * heads + h) * 2 * half;
        for (let j = 0; j < half; j++) {
          const c = cos[p * half + j];
          const s = sin[p * half + j];
          worst = Math.max(worst, Math.abs(data[o + j] - (x[o + j] * c - x[o + half + j] * s)), Math.abs(data[o + half + j] - (x[o + half + j] * c + x[o + j] * s)));
        }
      }
    }
    expect(worst).toBeLessThan(1e-6 * 8);
    const ops = tf.tidy(() => new Rotary(cos, sin, 1, n, half, false).apply(xt, heads));
    expect(bits(got).equals(bits(ops))).toBe(true);
    tf.dispose([xt, ct, st, got, ops]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('Rotary on the kernel gives the op-by-op values and gradients bit for bit, inside and outside a tape', () => {
    if (!onWasm()) return;
    const [B, T, heads, half] = [2, 5, 4, 8];
    const { cos, sin, x } = inputs(B * T, heads, half, 11);
    const weights = tf.randomNormal([B, T, heads, 2 * half], 0, 1, 'float32', 3);
    const xt = tf.tensor2d(x, [B * T, heads * 2 * half]);
    const before = tf.memory().numTensors;
    const run = (useKernel: boolean) => {
      const value = tf.tidy(() => new Rotary(cos, sin, B, T, half, useKernel).apply(xt, heads));
      // A weighted sum, so each output position gets its own gradient.
      const { value: loss, grads } = tf.variableGrads(() => tf.sum(tf.mul(new Rotary(cos, sin, B, T, half, useKernel).apply(tf.mul(xVar, 1), heads), weights)) as tf.Scalar, [xVar]);
      const out = [bits(value), bits(loss), bits(grads[xVar.name])];
      tf.dispose([value, loss, ...Object.values(grads)]);
      return out;
    };
    const xVar = tf.variable(xt, true, 'rope-x');
    const kernel = run(true);
    const ops = run(false);
    kernel.forEach((b, i) => expect(b.equals(ops[i])).toBe(true));
    xVar.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([weights, xt]);
  });

  test('rejects mismatched shapes, naming them', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      expect(() => ropeRows(tf.zeros([3, 16]) as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(/x \[3,16\], cos \[2,4\], sin \[2,4\]/);
      expect(() => ropeRows(tf.zeros([2, 12]) as tf.Tensor2D, tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 3]) as tf.Tensor2D)).toThrow(/half a multiple of 4/);
      expect(() => ropeRows(tf.zeros([2, 20]) as tf.Tensor2D, tf.zeros([2, 8]) as tf.Tensor2D, tf.zeros([2, 8]) as tf.Tensor2D)).toThrow(/heads·2·half/);
    });
  });
});
