import { concatCacheRows, disposeCache, selectCacheRows, tf, type KvCache } from '@cope/model';
import { setupBackend } from './helpers.js';

beforeAll(setupBackend);

/** A 2-layer cache of `rows` rows whose every value names its layer, tensor, row and position. */
function labelled(rows: number, len: number, tag: number): KvCache {
  const make = (layer: number, which: number, shape: [number, number, number, number]) =>
    tf.tensor4d(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => tag * 1e6 + layer * 1e5 + which * 1e4 + i), shape);
  return {
    layers: [0, 1].map((l) => ({ k: make(l, 0, [rows, 2, len, 4]), vT: make(l, 1, [rows, 2, 4, len]) })),
    mask: Array.from({ length: rows }, (_, r) => Array.from({ length: len }, (_, j) => (j >= r ? 1 : 0))),
  };
}

const rowsOf = (t: tf.Tensor, rows: number[]) => rows.map((r) => Array.from(t.dataSync()).slice(r * (t.size / t.shape[0]), (r + 1) * (t.size / t.shape[0])));

describe('KV cache rows', () => {
  test('selecting rows: a consecutive run (one slice) and any other choice (gather) copy exactly those rows, masks too', () => {
    const c = labelled(4, 3, 1);
    const before = tf.memory().numTensors;
    for (const pick of [[1, 2, 3], [2], [3, 0, 2], [0, 0]]) {
      const s = selectCacheRows(c, pick);
      s.layers.forEach((l, i) => {
        expect(rowsOf(l.k, pick.map((_, j) => j))).toEqual(rowsOf(c.layers[i].k, pick));
        expect(rowsOf(l.vT, pick.map((_, j) => j))).toEqual(rowsOf(c.layers[i].vT, pick));
      });
      expect(s.mask).toEqual(pick.map((r) => c.mask[r]));
      s.mask[0][0] = 9; // a copy, not the source's arrays
      expect(c.mask[pick[0]][0]).not.toBe(9);
      disposeCache(s);
    }
    expect(tf.memory().numTensors).toBe(before);
    disposeCache(c);
  });

  test('concatenating caches puts the rows of the first before those of the second; lengths must agree', () => {
    const a = labelled(2, 3, 1);
    const b = labelled(1, 3, 2);
    const c = concatCacheRows(a, b);
    c.layers.forEach((l, i) => {
      expect(rowsOf(l.k, [0, 1, 2])).toEqual([...rowsOf(a.layers[i].k, [0, 1]), ...rowsOf(b.layers[i].k, [0])]);
      expect(rowsOf(l.vT, [0, 1, 2])).toEqual([...rowsOf(a.layers[i].vT, [0, 1]), ...rowsOf(b.layers[i].vT, [0])]);
    });
    expect(c.mask).toEqual([...a.mask, ...b.mask]);
    const short = labelled(1, 2, 3);
    expect(() => concatCacheRows(a, short)).toThrow(/3 and 2 positions/);
    [a, b, c, short].forEach(disposeCache);
  });
});
