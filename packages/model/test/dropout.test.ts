import { tf } from '@cope/model';
import { opsFor } from '../src/ops/select.js';
import { bytesOf, setupBackend } from './helpers.js';

const seededDropout = (x: tf.Tensor2D, rate: number, seed: number) => opsFor().dropout(x, rate, seed);

beforeAll(setupBackend);

describe("seeded LoRA dropout (the backend's CopeDropout kernel where it has one, else tf.dropout)", () => {
  test('keeps about 1 - rate of the elements, scaled by 1 / (1 - rate); the same seed gives the same mask', () => {
    const x = tf.ones([200, 500]) as tf.Tensor2D;
    const a = seededDropout(x, 0.25, 1234).dataSync();
    const b = seededDropout(x, 0.25, 1234).dataSync();
    const c = seededDropout(x, 0.25, 99).dataSync();
    expect(bytesOf(a).equals(bytesOf(b))).toBe(true);
    expect(bytesOf(a).equals(bytesOf(c))).toBe(false);
    const kept = a.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    expect(Math.abs(kept.length / a.length - 0.75)).toBeLessThan(0.01);
    x.dispose();
  });

  test('its gradient applies the same mask', () => {
    const x = tf.randomNormal([64, 48], 0, 1, 'float32', 3) as tf.Tensor2D;
    const w = tf.randomNormal([64, 48], 0, 1, 'float32', 4);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(seededDropout(t as tf.Tensor2D, 0.3, 77), w)))(x);
    const mask = seededDropout(tf.onesLike(x) as tf.Tensor2D, 0.3, 77);
    const expected = tf.mul(mask, w);
    expect(Math.max(...Array.from(tf.abs(tf.sub(g, expected)).dataSync()))).toBeLessThan(1e-6);
    tf.dispose([x, w, g, mask, expected]);
  });
});
