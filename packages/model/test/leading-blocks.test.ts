import { Rng } from '@cope/core';
import { tf } from '@cope/model';
import { concatLeading, leadingBlocksAvailable, splitLeading } from '../src/wasm/leading-blocks.js';
import { setupBackend, onWasm, bits, normalTensor } from './helpers.js';
import { batchMatmul } from '../src/wasm/products.js';

beforeAll(setupBackend);

const random = (shape: number[], seed: number) => normalTensor(shape, new Rng(seed));

describe('split and concatenation along the first axis on the wasm heap (training attention\'s slices)', () => {
  test('is available on the wasm backend', () => {
    if (!onWasm()) return;
    expect(leadingBlocksAvailable()).toBe(true);
  });

  test.each([
    [[16, 256, 32], 16], [[6, 5], 3], [[4, 3, 2], 1], [[8], 4], [[2, 0, 3], 2],
  ])('[%s] in %i: the backend split\'s pieces and concat, bit for bit, no tensor left behind', (shape, parts) => {
    if (!onWasm()) return;
    const before = tf.memory().numTensors;
    const x = random(shape as number[], parts);
    const got = splitLeading(x, parts);
    const want = tf.split(x, parts, 0);
    expect(got.map((t) => t.shape)).toEqual(want.map((t) => t.shape));
    got.forEach((t, i) => expect(bits(t).equals(bits(want[i]))).toBe(true));
    const joined = concatLeading(got);
    expect(joined.shape).toEqual(x.shape);
    expect(bits(joined).equals(bits(x))).toBe(true);
    tf.dispose([x, ...got, ...want, joined]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('pieces of different lengths concatenate as the backend does', () => {
    if (!onWasm()) return;
    const parts = [random([1, 4], 1), random([3, 4], 2), random([2, 4], 3)];
    const got = concatLeading(parts);
    const want = tf.concat(parts, 0);
    expect(bits(got).equals(bits(want))).toBe(true);
    tf.dispose([...parts, got, want]);
  });

  test('gradients through split and concatenation equal the backend ops\' gradients, bit for bit', () => {
    if (!onWasm()) return;
    const x = random([6, 4, 3], 7);
    const w = random([6, 4, 3], 8);
    const parts = [random([2, 5], 9), random([1, 5], 10), random([3, 5], 11)];
    const v = random([6, 5], 12);
    // Every piece weighted differently (and one piece unused), then joined in another order.
    const viaSplit = (split: (t: tf.Tensor) => tf.Tensor[], concat: (ts: tf.Tensor[]) => tf.Tensor) => tf.grad((xIn: tf.Tensor) => {
      const p = split(tf.mul(xIn, w));
      return tf.sum(tf.mul(concat([p[2], p[0]]), tf.range(1, 5).reshape([4, 1, 1])));
    })(x);
    const viaConcat = (concat: (ts: tf.Tensor[]) => tf.Tensor) => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tf.sin(concat([a, b, c])), v)))(parts);
    const ours = viaSplit((t) => splitLeading(t, 3), concatLeading);
    const theirs = viaSplit((t) => tf.split(t, 3, 0), (ts) => tf.concat(ts, 0));
    expect(bits(ours).equals(bits(theirs))).toBe(true);
    const oursC = viaConcat(concatLeading);
    const theirsC = viaConcat((ts) => tf.concat(ts, 0));
    oursC.forEach((g, i) => expect(bits(g).equals(bits(theirsC[i]))).toBe(true));
    tf.dispose([x, w, ...parts, v, ours, theirs, ...oursC, ...theirsC]);
  });

  test('batchMatmul (slices through them): the per-slice products bit for bit, gradients as the batched product\'s', () => {
    if (!onWasm()) return;
    const a = random([5, 7, 3], 21) as tf.Tensor3D;
    const b = random([5, 3, 4], 22) as tf.Tensor3D;
    const got = batchMatmul(a, b);
    const want = tf.stack(tf.unstack(a).map((ai, i) => tf.matMul(ai as tf.Tensor2D, tf.unstack(b)[i] as tf.Tensor2D)));
    expect(got.shape).toEqual([5, 7, 4]);
    expect(bits(got).equals(bits(want))).toBe(true);
    const loss = (f: (x: tf.Tensor3D, y: tf.Tensor3D) => tf.Tensor) => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.sin(f(x as tf.Tensor3D, y as tf.Tensor3D))))([a, b]);
    const ours = loss(batchMatmul);
    const theirs = loss((x, y) => tf.matMul(x, y));
    ours.forEach((g, i) => {
      const d = tf.max(tf.abs(tf.sub(g, theirs[i]))).dataSync()[0];
      expect(d).toBeLessThan(1e-5);
    });
    tf.dispose([a, b, got, want, ...ours, ...theirs]);
  });

  test('rejects what it cannot do, naming it', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      expect(() => splitLeading(tf.zeros([5, 2]), 2)).toThrow(/2 parts do not divide the first axis of \[5,2\]/);
      expect(() => splitLeading(tf.zeros([4, 2], 'int32'), 2)).toThrow(/float32 tensors, got int32/);
      expect(() => concatLeading([tf.zeros([1, 2]), tf.zeros([1, 3])])).toThrow(/\[1,2\] and \[1,3\] differ past the first axis/);
      expect(() => concatLeading([])).toThrow(/no tensors/);
    });
  });
});
