import { Rng } from '@cope/core';
import { tf } from '@cope/model';
import { rmsNormAvailable, rmsNormRows } from '../src/wasm/rms-norm.js';
import { setupBackend, onWasm, bits } from './helpers.js';

beforeAll(setupBackend);

describe('RMSNorm kernel (norms outside a gradient tape on wasm)', () => {
  test('is available on the wasm backend for widths that are multiples of 4', () => {
    if (!onWasm()) return;
    expect(rmsNormAvailable(256)).toBe(true);
    expect(rmsNormAvailable(4)).toBe(true);
    expect(rmsNormAvailable(6)).toBe(false);
  });

  test.each([
    [1, 4, 1e-5], [3, 64, 1e-6], [64, 256, 1e-5], [130, 688, 1e-5], [2, 512, 0.1],
  ])('[%i, %i] rows, eps %d: a float64 norm within 1e-6 relative, and the op-by-op form bit for bit', (n, h, eps) => {
    if (!onWasm()) return;
    const rng = new Rng(n * 1000 + h);
    const x = Float32Array.from({ length: n * h }, () => rng.normal() * 2);
    const w = Float32Array.from({ length: h }, () => 1 + rng.normal() * 0.1);
    const before = tf.memory().numTensors;
    const xt = tf.tensor2d(x, [n, h]);
    const wt = tf.tensor1d(w);
    const got = rmsNormRows(xt, wt, eps);
    const data = got.dataSync();
    let worst = 0;
    for (let r = 0; r < n; r++) {
      let ss = 0;
      for (let j = 0; j < h; j++) ss += x[r * h + j] ** 2;
      const inv = 1 / Math.sqrt(ss / h + eps);
      for (let j = 0; j < h; j++) {
        const want = x[r * h + j] * inv * w[j];
        worst = Math.max(worst, Math.abs(data[r * h + j] - want) / (1 + Math.abs(want)));
      }
    }
    expect(worst).toBeLessThan(1e-6 * Math.sqrt(h));
    const ops = tf.tidy(() => tf.mul(tf.mul(xt, tf.rsqrt(tf.add(tf.mean(tf.square(xt), -1, true), eps))), wt));
    expect(bits(got).equals(bits(ops))).toBe(true);
    tf.dispose([xt, wt, got, ops]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('rejects mismatched shapes, naming them', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      expect(() => rmsNormRows(tf.zeros([2, 8]) as tf.Tensor2D, tf.zeros([4]) as tf.Tensor1D, 1e-5)).toThrow(/x \[2,8\], w \[4\]/);
      expect(() => rmsNormRows(tf.zeros([2, 6]) as tf.Tensor2D, tf.zeros([6]) as tf.Tensor1D, 1e-5)).toThrow(/multiple of 4/);
    });
  });
});
