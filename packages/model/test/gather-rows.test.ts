import { Rng } from '@cope/core';
import { tf } from '@cope/model';
import { gatherRows, gatherRowsAvailable } from '../src/wasm/gather-rows.js';
import { setupBackend, onWasm, normalTensor } from './helpers.js';

beforeAll(setupBackend);

describe('row lookup kernel (embeddings and last positions on wasm)', () => {
  test('is available on the wasm backend', () => {
    if (!onWasm()) return;
    expect(gatherRowsAvailable()).toBe(true);
  });

  test.each([
    [50, 7, [0, 49, 3, 3, 17]],
    [8000, 256, Array.from({ length: 64 }, (_, i) => (i * 997) % 8000)],
    [3, 1, [2, 0, 1, 2]],
    [10, 4, []],
  ])('[%i, %i] table: the backend gather\'s values bit for bit, no tensor left behind', (V, width, ids) => {
    if (!onWasm()) return;
    const rng = new Rng(V + width);
    const before = tf.memory().numTensors;
    const table = normalTensor([V, width], rng) as tf.Tensor2D;
    const idx = tf.tensor1d(ids, 'int32');
    const got = gatherRows(table, idx);
    const want = tf.gather(table, idx);
    expect(got.shape).toEqual([ids.length, width]);
    expect(Buffer.from((got.dataSync() as Float32Array).buffer).equals(Buffer.from((want.dataSync() as Float32Array).buffer))).toBe(true);
    tf.dispose([table, idx, got, want]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('rejects ids that are not int32', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      expect(() => gatherRows(tf.zeros([4, 2]) as tf.Tensor2D, tf.tensor1d([1], 'float32'))).toThrow(/ids must be int32, got float32/);
    });
  });
});
