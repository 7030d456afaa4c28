import { Rng } from '@cope/core';
import { tf } from '@cope/model';
import { concatRows, concatRowsAvailable } from '../src/wasm/concat-rows.js';
import { setupBackend, onWasm, bits, normalTensor } from './helpers.js';

beforeAll(setupBackend);

describe('concat-rows kernel (the KV cache growing by a decoding step on wasm)', () => {
  test('is available on the wasm backend', () => {
    if (!onWasm()) return;
    expect(concatRowsAvailable()).toBe(true);
  });

  test.each([
    [4, 64 * 32, 32], [128, 64, 1], [3, 5, 0], [2, 0, 7], [1, 1, 1],
  ])('[%i, %i] beside [%i columns]: the backend concat\'s values, no tensor left behind', (rows, ca, cb) => {
    if (!onWasm()) return;
    const rng = new Rng(rows + ca + cb);
    const before = tf.memory().numTensors;
    const a = normalTensor([rows, ca], rng) as tf.Tensor2D;
    const b = normalTensor([rows, cb], rng) as tf.Tensor2D;
    const got = concatRows(a, b);
    const want = tf.concat([a, b], 1);
    expect(got.shape).toEqual([rows, ca + cb]);
    expect(bits(got).equals(bits(want))).toBe(true);
    tf.dispose([a, b, got, want]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('rejects different row counts and other dtypes, naming them', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      expect(() => concatRows(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([3, 3]) as tf.Tensor2D)).toThrow(/a \[2,3\] and b \[3,3\]/);
      expect(() => concatRows(tf.zeros([2, 3], 'int32') as tf.Tensor2D, tf.zeros([2, 3]) as tf.Tensor2D)).toThrow(/float32 inputs, got int32/);
    });
  });
});
