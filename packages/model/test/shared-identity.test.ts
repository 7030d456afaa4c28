import { tf } from '@cope/model';
import { bits, onWasm, setupBackend } from './helpers.js';

beforeAll(setupBackend);

const buffers = () => tf.memory().numDataBuffers;

describe('clones share memory on the wasm backend (as on tfjs CPU and WebGL)', () => {
  test('a clone takes no new buffer, keeps its values when the original is disposed, and frees with the last owner', () => {
    if (!onWasm()) return;
    const base = buffers();
    const x = tf.tensor2d(Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i)), [64, 64]);
    const expected = bits(x);
    const c = tf.clone(x);
    expect(c.dataId).toBe(x.dataId);
    expect(buffers()).toBe(base + 1);
    x.dispose();
    expect(bits(c)).toEqual(expected);
    c.dispose();
    expect(buffers()).toBe(base);
  });

  test('a clone of a variable keeps the old values after the variable is assigned new ones', () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const c = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, c]);
  });

  test('string tensors still clone', () => {
    const s = tf.tensor(['a', 'b']);
    const c = tf.clone(s);
    expect(c.dataSync()).toEqual(['a', 'b']);
    tf.dispose([s, c]);
  });

  test('the gradient tape keeps what an op saves for its backward pass without a copy', () => {
    if (!onWasm()) return;
    const x = tf.tensor1d([0.5, -1, 2]);
    let added = -1;
    // Exp saves its output for the gradient: the tape clones it, which used to copy it into a second buffer.
    const dx = tf.grad((xIn: tf.Tensor) => {
      const before = buffers();
      const y = tf.exp(xIn);
      added = buffers() - before;
      return y;
    })(x);
    expect(added).toBe(1);
    expect(Array.from(dx.dataSync())).toEqual(Array.from(tf.exp(x).dataSync()));
    tf.dispose([x, dx]);
  });
});
