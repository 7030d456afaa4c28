import { Rng } from '@cope/core';
import { tf } from '@cope/model';
import { transpose2d, transpose2dAvailable } from '../src/wasm/transpose2d.js';
import { setupBackend, onWasm, bits, normalTensor } from './helpers.js';

beforeAll(setupBackend);

describe('transpose kernel (training\'s backward products on wasm)', () => {
  test('is available on the wasm backend', () => {
    if (!onWasm()) return;
    expect(transpose2dAvailable()).toBe(true);
  });

  test.each([
    [1024, 128], [256, 32], [7, 5], [1, 9], [9, 1], [1027, 131], [4, 4], [13, 8], [8, 13], [3, 0], [0, 5],
  ])('[%i, %i]: the backend transpose\'s values bit for bit, no tensor left behind', (rows, cols) => {
    if (!onWasm()) return;
    const rng = new Rng(rows * 31 + cols);
    const before = tf.memory().numTensors;
    const x = normalTensor([rows, cols], rng) as tf.Tensor2D;
    const got = transpose2d(x);
    const want = tf.transpose(x);
    expect(got.shape).toEqual([cols, rows]);
    expect(bits(got).equals(bits(want))).toBe(true);
    tf.dispose([x, got, want]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('its gradient is the backend transpose\'s gradient, bit for bit', () => {
    if (!onWasm()) return;
    const rng = new Rng(5);
    const x = normalTensor([37, 12], rng);
    const w = normalTensor([12, 37], rng);
    const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.sin(transpose2d(t as tf.Tensor2D)), w)))(x);
    const theirs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.sin(tf.transpose(t)), w)))(x);
    expect(bits(ours).equals(bits(theirs))).toBe(true);
    tf.dispose([x, w, ours, theirs]);
  });

  test('rejects what is not a float32 matrix, naming it', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      expect(() => transpose2d(tf.zeros([2, 3], 'int32') as tf.Tensor2D)).toThrow(/float32 matrix, got int32 \[2,3\]/);
      expect(() => transpose2d(tf.zeros([2, 3, 4]) as unknown as tf.Tensor2D)).toThrow(/float32 matrix, got float32 \[2,3,4\]/);
    });
  });
});
