import { Rng, tf } from '@cope/model';
import { stepAttention, stepAttentionAvailable } from '../src/kernels/step-attention.js';
import { setupBackend } from './helpers.js';

beforeAll(setupBackend);

const onWasm = () => tf.getBackend() === 'wasm';

/** Float64 reference: per query head, softmax over the cache of scale·q·k + bias, times the values. */
function hostAttention(q: Float32Array, k: Float32Array, vT: Float32Array, bias: Float32Array, B: number, H: number, kvH: number, T: number, hd: number, scale: number): Float64Array {
  const g = H / kvH;
  const out = new Float64Array(B * H * hd);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kv = b * kvH + Math.floor(h / g);
      const s = Array.from({ length: T }, (_, t) => {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q[(b * H + h) * hd + d] * k[(kv * T + t) * hd + d];
        return dot * scale + bias[b * T + t];
      });
      const m = Math.max(...s);
      const e = s.map((x) => Math.exp(x - m));
      const z = e.reduce((a, c) => a + c, 0);
      for (let d = 0; d < hd; d++) {
        let acc = 0;
        for (let t = 0; t < T; t++) acc += e[t] * vT[(kv * hd + d) * T + t];
        out[(b * H + h) * hd + d] = acc / z;
      }
    }
  }
  return out;
}

describe('decoding-step attention kernel (wasm)', () => {
  const rng = new Rng(5);
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.normal() * s);

  // [B, H, kvH, T, hd]: one cached token, grouped heads with a ragged cache length, plain multi-head,
  // a long cache with large scores (the softmax's shift matters).
  test.each([[1, 4, 2, 1, 8], [2, 8, 2, 67, 64], [3, 4, 4, 5, 16], [1, 8, 2, 600, 32]])('B %i, H %i, kvH %i, T %i, hd %i: equals a float64 computation within 1e-5 (float32 sums over the cache)', (B, H, kvH, T, hd) => {
    if (!onWasm()) return;
    expect(stepAttentionAvailable()).toBe(true);
    const q = rand(B * H * hd, 2);
    const k = rand(B * kvH * T * hd, 2);
    const vT = rand(B * kvH * hd * T);
    // Left padding: the first positions of every other row are masked, as forward's bias does.
    const bias = new Float32Array(B * T);
    for (let b = 1; b < B; b += 2) bias.fill(-1e9, b * T, b * T + Math.floor(T / 2));
    const scale = 1 / Math.sqrt(hd);
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => stepAttention(tf.tensor3d(q, [B, H, hd]), tf.tensor4d(k, [B, kvH, T, hd]), tf.tensor4d(vT, [B, kvH, hd, T]), tf.tensor2d(bias, [B, T]), scale));
    expect(out.shape).toEqual([B, H, hd]);
    const got = out.dataSync();
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const want = hostAttention(q, k, vT, bias, B, H, kvH, T, hd, scale);
    let worst = 0;
    want.forEach((w, i) => (worst = Math.max(worst, Math.abs(got[i] - w))));
    expect(worst).toBeLessThan(1e-5);
  });

  test('masked positions get exactly zero weight', () => {
    if (!onWasm()) return;
    // Two cached tokens, the first masked and holding huge values: they must not leak into the output.
    const out = tf.tidy(() => stepAttention(tf.tensor3d([1, 0, 0, 0], [1, 1, 4]), tf.tensor4d([0, 0, 0, 0, 1, 0, 0, 0], [1, 1, 2, 4]),
      tf.tensor4d([3e38, 1, 3e38, 2, 3e38, 3, 3e38, 4], [1, 1, 4, 2]), tf.tensor2d([-1e9, 0], [1, 2]), 1));
    expect(Array.from(out.dataSync())).toEqual([1, 2, 3, 4]);
    out.dispose();
  });

  test('the scratch row is freed: the backend holds no more data after a call', () => {
    if (!onWasm()) return;
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const inputs = [tf.zeros([1, 2, 4]), tf.zeros([1, 1, 3, 4]), tf.zeros([1, 1, 4, 3]), tf.zeros([1, 3])] as const;
    const ids = backend.numDataIds();
    const out = stepAttention(inputs[0] as tf.Tensor3D, inputs[1] as tf.Tensor4D, inputs[2] as tf.Tensor4D, inputs[3] as tf.Tensor2D, 0.5);
    expect(backend.numDataIds()).toBe(ids + 1);
    tf.dispose([out, ...inputs]);
  });

  test('bad shapes are named', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      expect(() => stepAttention(tf.zeros([1, 3, 4]), tf.zeros([1, 2, 5, 4]), tf.zeros([1, 2, 4, 5]), tf.zeros([1, 5]), 1)).toThrow(/mismatched shapes: q \[1,3,4\]/);
      expect(() => stepAttention(tf.zeros([1, 2, 4]), tf.zeros([1, 2, 5, 4]), tf.zeros([1, 2, 5, 4]), tf.zeros([1, 5]), 1)).toThrow(/vT \[1,2,5,4\]/);
      expect(() => stepAttention(tf.zeros([1, 2, 6]), tf.zeros([1, 2, 5, 6]), tf.zeros([1, 2, 6, 5]), tf.zeros([1, 5]), 1)).toThrow(/multiple of 4/);
    });
  });
});
