import { Rng } from '@cope/core';
import { tf } from '@cope/model';
import { swiGlu, swiGluAvailable } from '../src/wasm/swiglu.js';
import { setupBackend, onWasm, bits } from './helpers.js';

beforeAll(setupBackend);

describe('SwiGLU kernel (the gated product outside a gradient tape on wasm)', () => {
  test('is available on the wasm backend for sizes that are multiples of 4', () => {
    if (!onWasm()) return;
    expect(swiGluAvailable(688)).toBe(true);
    expect(swiGluAvailable(6)).toBe(false);
  });

  test.each([
    [1, 4, 1], [2, 688, 3], [64, 1376, 3], [7, 12, 30],
  ])('[%i, %i] with gates of scale %d: float64 within 1e-6 relative, and the backend\'s sigmoid and products bit for bit', (n, width, scale) => {
    if (!onWasm()) return;
    const rng = new Rng(n * 7 + width);
    // Wide gates reach both tails: exp(-|x|) below the denormal cutoff (|x| > 87.3) and exactly 0 or 1.
    const g = Float32Array.from({ length: n * width }, (_, i) => (i % 97 === 0 ? rng.normal() * 60 : rng.normal() * scale));
    g[0] = 0;
    if (g.length > 1) g[1] = -0;
    const u = Float32Array.from({ length: n * width }, () => rng.normal());
    const before = tf.memory().numTensors;
    const gt = tf.tensor2d(g, [n, width]);
    const ut = tf.tensor2d(u, [n, width]);
    const got = swiGlu(gt, ut);
    const data = got.dataSync();
    let worst = 0;
    for (let i = 0; i < g.length; i++) {
      const want = (g[i] / (1 + Math.exp(-g[i]))) * u[i];
      worst = Math.max(worst, Math.abs(data[i] - want) / (1 + Math.abs(want)));
    }
    expect(worst).toBeLessThan(1e-6);
    const ops = tf.tidy(() => tf.mul(tf.mul(gt, tf.sigmoid(gt)), ut));
    expect(bits(got).equals(bits(ops))).toBe(true);
    tf.dispose([gt, ut, got, ops]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('rejects mismatched shapes, naming them', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      expect(() => swiGlu(tf.zeros([2, 8]) as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(/gate \[2,8\], up \[2,4\]/);
      expect(() => swiGlu(tf.zeros([1, 6]) as tf.Tensor2D, tf.zeros([1, 6]) as tf.Tensor2D)).toThrow(/multiple of 4/);
    });
  });
});
