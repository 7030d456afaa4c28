import { Rng } from '@cope/core';
import { tf } from '@cope/model';
import { scaledAdd, scaledAddAvailable } from '../src/wasm/scaled-add.js';
import { setupBackend, onWasm, bits, normalTensor } from './helpers.js';

beforeAll(setupBackend);

describe('scaled-add kernel (a LoRA update added with a scale per row on wasm)', () => {
  test('is available on the wasm backend for widths that are multiples of 4', () => {
    if (!onWasm()) return;
    expect(scaledAddAvailable(256)).toBe(true);
    expect(scaledAddAvailable(10)).toBe(false);
  });

  test.each([[1, 4], [2, 256], [3, 64], [64, 688]])('[%i, %i]: the backend\'s multiply and add bit for bit, with a row mask and with one scale for every row', (rows, cols) => {
    if (!onWasm()) return;
    const rng = new Rng(rows * 10 + cols);
    const y = normalTensor([rows, cols], rng) as tf.Tensor2D;
    const delta = normalTensor([rows, cols], rng, 0.1) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    // Every other row uses the adapter (scale 2, as alpha 16 / r 8), the others get 0.
    const maskValues = Float32Array.from({ length: rows }, (_, r) => (r % 2 === 0 ? 2 : 0));
    const mask = tf.tensor2d(maskValues, [rows, 1]);
    const vector = tf.tensor1d(maskValues);
    const masked = scaledAdd(y, delta, vector);
    const maskedOps = tf.tidy(() => tf.add(y, tf.mul(delta, mask)));
    expect(bits(masked).equals(bits(maskedOps))).toBe(true);
    const all = tf.tensor1d(new Float32Array(rows).fill(0.5));
    const scaled = scaledAdd(y, delta, all);
    const scaledOps = tf.tidy(() => tf.add(y, tf.mul(delta, 0.5)));
    expect(bits(scaled).equals(bits(scaledOps))).toBe(true);
    tf.dispose([mask, vector, masked, maskedOps, all, scaled, scaledOps]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, delta]);
  });

  test('with a scale of 1 it is the backend\'s Add bit for bit (the residual stream), special values too', () => {
    if (!onWasm()) return;
    const rng = new Rng(5);
    const special = [0, -0, 1e-40, -1e-40, 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 1, -1, 1e-7];
    const cols = 16;
    const yValues = Float32Array.from({ length: 3 * cols }, (_, i) => (i < special.length ? special[i] : rng.normal()));
    const xValues = Float32Array.from({ length: 3 * cols }, (_, i) => (i < special.length ? special[(i * 5) % special.length] : rng.normal()));
    tf.tidy(() => {
      const y = tf.tensor2d(yValues, [3, cols]);
      const x = tf.tensor2d(xValues, [3, cols]);
      expect(bits(scaledAdd(y, x, tf.ones([3]) as tf.Tensor1D)).equals(bits(tf.add(y, x)))).toBe(true);
    });
  });

  test('rejects mismatched shapes, naming them', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      expect(() => scaledAdd(tf.zeros([2, 8]) as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D, tf.zeros([2]) as tf.Tensor1D)).toThrow(/y \[2,8\], delta \[2,4\], scale \[2\]/);
      expect(() => scaledAdd(tf.zeros([2, 8]) as tf.Tensor2D, tf.zeros([2, 8]) as tf.Tensor2D, tf.zeros([3]) as tf.Tensor1D)).toThrow(/scale \[3\]/);
    });
  });
});
