import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { LOG_SOFTMAX_PICK_GRAD_KERNEL, LOG_SOFTMAX_PICK_KERNEL, NATIVE_BACKEND, RMS_NORM_GRAD_KERNEL, RMS_NORM_KERNEL, ROPE_ROWS_KERNEL, STEP_ATTENTION_KERNEL, SCALED_ADD_KERNEL, SWIGLU_GRAD_KERNEL, SWIGLU_KERNEL, loadAddon, registerNativeBackend } from '@cope/backend-native';

/**
 * Every native kernel against tfjs-backend-cpu's own (the independent reference: same ops, plain JS), on
 * shapes that exercise broadcasting, transposes, batch broadcasting and the fallbacks.
 */
const addon = registerNativeBackend({ threads: 1 });
if (!addon) throw new Error(`${loadAddon().reason} (.ci/run installs libopenblas-dev so that the addon builds)`);

let seed = 7;
function random(shape: number[], dtype: 'float32' | 'int32' = 'float32'): { shape: number[]; values: Float32Array | Int32Array } {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    values[i] = dtype === 'float32' ? (seed / 2147483648) * 4 - 2 : (seed % 7) - 3;
  }
  return { shape, values };
}

/** `fn` on the cpu and on the native backend, from the same inputs: [cpu, native] values and shapes. */
type Outputs = Array<{ shape: number[]; values: number[] }>;

async function both(inputs: Array<{ shape: number[]; values: Float32Array | Int32Array }>, fn: (...ts: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<[Outputs, Outputs]> {
  const run = async (backend: string): Promise<Outputs> => {
    await tf.setBackend(backend);
    const ts = inputs.map((x) => tf.tensor(x.values, x.shape, x.values instanceof Int32Array ? 'int32' : 'float32'));
    const out = [fn(...ts)].flat();
    const res = await Promise.all(out.map(async (o) => ({ shape: o.shape, values: Array.from(await o.data()) })));
    tf.dispose([...ts, ...out]);
    return res;
  };
  return [await run('cpu'), await run(NATIVE_BACKEND)];
}

function expectClose(cpu: Array<{ shape: number[]; values: number[] }>, native: Array<{ shape: number[]; values: number[] }>, tol = 1e-5) {
  expect(native.map((o) => o.shape)).toEqual(cpu.map((o) => o.shape));
  cpu.forEach((o, k) => o.values.forEach((v, i) => {
    const w = native[k].values[i];
    if (Number.isNaN(v)) expect(w).toBeNaN();
    else expect(Math.abs(w - v)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(v)));
  }));
}

describe('native kernels equal tfjs-backend-cpu', () => {
  test.each([
    [[2, 3, 4], [2, 3, 4]], [[2, 3, 4], [4]], [[2, 3, 4], [3, 1]], [[2, 1, 4], [1, 3, 1]], [[5], []], [[], [6]], [[4, 1, 1, 6], [4, 2, 3, 6]], [[0, 3], [3]],
  ])('binary ops %j with %j', async (sa, sb) => {
    for (const op of [tf.add, tf.sub, tf.mul, tf.div, tf.maximum, tf.minimum, tf.squaredDifference]) {
      const [cpu, native] = await both([random(sa), random(sb)], (a, b) => op(a, b));
      expectClose(cpu, native);
    }
  });

  test('int32 operands go to the cpu kernels', async () => {
    const [cpu, native] = await both([random([3, 4], 'int32'), random([4], 'int32')], (a, b) => tf.mul(a, b));
    expect(native).toEqual(cpu);
  });

  test('unary ops, softmax and reductions over trailing axes (and others, through the fallback)', async () => {
    const x = random([3, 5, 7]);
    for (const op of [tf.exp, tf.neg, tf.sigmoid, tf.square, tf.abs, tf.tanh, tf.reciprocal, tf.floor]) expectClose(...(await both([x], (t) => op(t))));
    const positive = { shape: x.shape, values: x.values.map((v) => Math.abs(v) + 0.1) };
    for (const op of [tf.rsqrt, tf.sqrt, tf.log]) expectClose(...(await both([positive], (t) => op(t))));
    expectClose(...(await both([x], (t) => tf.softmax(t))));
    for (const axis of [-1, [1, 2], 0, 1, [0, 2]]) {
      for (const op of [tf.sum, tf.mean, tf.max, tf.min]) {
        expectClose(...(await both([x], (t) => op(t, axis, false))));
        expectClose(...(await both([x], (t) => op(t, axis, true))));
      }
    }
  });

  test.each([[[2, 3, 4], [2, 0, 1]], [[2, 3, 4, 5], [0, 2, 1, 3]], [[6, 7], [1, 0]], [[1, 3, 1, 4], [3, 2, 1, 0]]])('transpose %j by %j', async (shape, perm) => {
    expectClose(...(await both([random(shape)], (t) => tf.transpose(t, perm))), 0);
  });

  test('split and concat along each axis, float32 and int32', async () => {
    for (const dtype of ['float32', 'int32'] as const) {
      const x = random([4, 6, 5], dtype);
      for (const axis of [0, 1, 2]) {
        expectClose(...(await both([x], (t) => tf.split(t, [1, -1], axis))), 0);
        expectClose(...(await both([x, x], (a, b) => tf.concat([a, b, a], axis))), 0);
      }
    }
  });

  test('one-hot and gather (rows, columns, single elements; out-of-range indices through the fallback)', async () => {
    for (const dtype of ['float32', 'int32'] as const) {
      expectClose(...(await both([{ shape: [2, 3], values: Int32Array.from([0, 4, 2, -1, 1, 3]) }], (i) => tf.oneHot(i as tf.Tensor2D, 4, 2, -1, dtype))), 0);
      // An int32 one-hot cast to float32 feeds the float kernels (tfjs-backend-cpu's cast keeps integer storage).
      expectClose(...(await both([{ shape: [3], values: Int32Array.from([0, 2, 1]) }], (i) => tf.sub(tf.cast(tf.oneHot(i as tf.Tensor1D, 3), 'float32'), 0.5))), 0);
      const x = random([4, 5, 3], dtype);
      const idx = { shape: [2, 2], values: Int32Array.from([3, 0, 1, 3]) };
      for (const axis of [0, 1, 2]) expectClose(...(await both([x, { ...idx, values: idx.values.map((v) => v % x.shape[axis]) }], (t, i) => tf.gather(t, i, axis))), 0);
    }
  });

  test.each([
    [[5, 7], [7, 3], false, false], [[7, 5], [7, 3], true, false], [[5, 7], [3, 7], false, true], [[7, 5], [3, 7], true, true],
    [[1, 7], [7, 3], false, false], [[7, 1], [3, 7], true, true], [[1, 7], [3, 7], false, true], [[2, 7], [7, 33], false, false],
    [[2, 7], [33, 7], false, true], [[4, 7], [7, 5], false, false], [[3, 7], [5, 7], false, true], [[7, 2], [7, 5], true, false], [[2, 1, 7], [2, 7, 3], false, false],
    [[4, 5, 7], [4, 7, 3], false, false], [[4, 5, 7], [7, 3], false, false], [[1, 5, 7], [3, 7, 2], false, false], [[5, 0], [0, 3], false, false],
  ])('matMul %j · %j (transposeA %s, transposeB %s)', async (sa, sb, ta, tb) => {
    expectClose(...(await both([random(sa), random(sb)], (a, b) => tf.matMul(a, b, ta, tb))), 1e-5);
  });

  test('a row\'s product does not depend on the rows batched with it (batched decoding and the prompt cache rely on it)', async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const w = tf.tensor2d(random([96, 300]).values, [96, 300]);
    const x = tf.tensor2d(random([9, 96]).values, [9, 96]);
    const rows = [1, 2, 3, 4, 5, 9].map((m) => tf.matMul(tf.slice(x, [0, 0], [m, 96]), w));
    const first = rows.map((r) => Buffer.from((r.dataSync() as Float32Array).slice(0, 300).buffer));
    expect(first.map((f) => f.equals(first[0]))).toEqual(first.map(() => true));
    tf.dispose([w, x, ...rows]);
  });

  test('fused RMSNorm, SwiGLU and scaled add equal their op-by-op definitions', async () => {
    const x = random([5, 24]);
    const w = random([24]);
    const up = random([5, 24]);
    const scale = random([5]);
    const [reference] = await both([x, w, up, scale], (a, b, u, sc) => [
      tf.mul(tf.mul(a, tf.rsqrt(tf.add(tf.mean(tf.square(a), -1, true), 1e-5))), b),
      tf.mul(tf.mul(a, tf.sigmoid(a)), u),
      tf.add(a, tf.mul(u, tf.expandDims(sc, -1))),
    ]);
    await tf.setBackend(NATIVE_BACKEND);
    const [a, b, u, sc] = [tf.tensor2d(x.values, [5, 24]), tf.tensor1d(w.values), tf.tensor2d(up.values, [5, 24]), tf.tensor1d(scale.values)];
    const outs = [
      tf.engine().runKernel(RMS_NORM_KERNEL, { x: a, w: b }, { eps: 1e-5 }) as tf.Tensor,
      tf.engine().runKernel(SWIGLU_KERNEL, { gate: a, up: u }) as tf.Tensor,
      tf.engine().runKernel(SCALED_ADD_KERNEL, { y: a, delta: u, scale: sc }) as tf.Tensor,
    ];
    expectClose(reference, outs.map((o) => ({ shape: o.shape, values: Array.from(o.dataSync()) })), 2e-6);
    tf.dispose([a, b, u, sc, ...outs]);
  });

  test('scaled add: a row with scale 0 keeps its values bit for bit (−0 stays −0, even past an infinite update)', async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const y = tf.tensor2d([-0, 1.5, -0, 2], [2, 2]);
    const delta = tf.tensor2d([3, Infinity, 3, -1], [2, 2]);
    const scale = tf.tensor1d([0, 0.5]);
    const out = tf.engine().runKernel(SCALED_ADD_KERNEL, { y, delta, scale }) as tf.Tensor;
    const values = Array.from(out.dataSync());
    expect(Object.is(values[0], -0)).toBe(true);
    expect(values.slice(1)).toEqual([1.5, 1.5, 1.5]);
    tf.dispose([y, delta, scale, out]);
  });

  test("fused RMSNorm's and SwiGLU's gradients equal central differences of their definitions (float64)", async () => {
    const [rows, cols] = [6, 40];
    const [x, w, up, dy] = [random([rows, cols]), random([cols]), random([rows, cols]), random([rows, cols])];
    // sum(f(inputs) · dy) in float64, and its derivative by each input element.
    const rmsLoss = (xs: Float64Array, ws: Float64Array) => {
      let total = 0;
      for (let r = 0; r < rows; r++) {
        let ss = 0;
        for (let j = 0; j < cols; j++) ss += xs[r * cols + j] ** 2;
        const scale = 1 / Math.sqrt(ss / cols + 1e-5);
        for (let j = 0; j < cols; j++) total += xs[r * cols + j] * scale * ws[j] * dy.values[r * cols + j];
      }
      return total;
    };
    const swiLoss = (gs: Float64Array, us: Float64Array) => gs.reduce((t, g, i) => t + (g / (1 + Math.exp(-g))) * us[i] * dy.values[i], 0);
    const numeric = (loss: (a: Float64Array, b: Float64Array) => number, a: Float64Array, b: Float64Array) => [a, b].map((v) => Array.from(v, (_, i) => {
      const h = 1e-6;
      const at = (d: number) => { const old = v[i]; v[i] = old + d; const l = loss(a, b); v[i] = old; return l; };
      return (at(h) - at(-h)) / (2 * h);
    }));
    const f64 = (t: { values: Float32Array | Int32Array }) => Float64Array.from(t.values);
    const want = [...numeric(rmsLoss, f64(x), f64(w)), ...numeric(swiLoss, f64(x), f64(up))];
    await tf.setBackend(NATIVE_BACKEND);
    const [a, b, u, d] = [tf.tensor2d(x.values, [rows, cols]), tf.tensor1d(w.values), tf.tensor2d(up.values, [rows, cols]), tf.tensor2d(dy.values, [rows, cols])];
    const outs = [
      ...(tf.engine().runKernel(RMS_NORM_GRAD_KERNEL, { x: a, w: b, dy: d }, { eps: 1e-5 }) as unknown as tf.Tensor[]),
      ...(tf.engine().runKernel(SWIGLU_GRAD_KERNEL, { gate: a, up: u, dy: d }) as unknown as tf.Tensor[]),
    ];
    outs.forEach((o, k) => Array.from(o.dataSync()).forEach((v, i) => expect(Math.abs(v - want[k][i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[k][i])))));
    tf.dispose([a, b, u, d, ...outs]);
  });

  test('rotary rows and the decoding step\'s attention equal their op-by-op definitions', async () => {
    const [n, heads, half] = [5, 3, 4];
    const [x, cos, sin] = [random([n, heads * 2 * half]), random([n, half]), random([n, half])];
    const [B, kvH, g, T, hd] = [2, 2, 3, 7, 8];
    const [q, k, v, bias] = [random([B, kvH * g, hd]), random([B, kvH, T, hd]), random([B, kvH, T, hd]), random([B, T])];
    bias.values[3] = -1e9;
    const [reference] = await both([x, cos, sin, q, k, v, bias], (xt, c, s, qt, kt, vt, bt) => {
      const [x1, x2] = tf.split(tf.reshape(xt, [n, heads, 2 * half]), 2, 2);
      const cc = tf.reshape(c, [n, 1, half]);
      const ss = tf.reshape(s, [n, 1, half]);
      const rotated = tf.reshape(tf.concat([tf.sub(tf.mul(x1, cc), tf.mul(x2, ss)), tf.add(tf.mul(x2, cc), tf.mul(x1, ss))], 2), [n, heads * 2 * half]);
      const qg = tf.reshape(tf.mul(qt, 1 / Math.sqrt(hd)), [B, kvH, g, hd]);
      const scores = tf.add(tf.matMul(qg, kt, false, true), tf.reshape(bt, [B, 1, 1, T]));
      return [rotated, tf.reshape(tf.matMul(tf.softmax(scores), vt), [B, kvH * g, hd])];
    });
    await tf.setBackend(NATIVE_BACKEND);
    const ts = [tf.tensor2d(x.values, [n, heads * 2 * half]), tf.tensor2d(cos.values, [n, half]), tf.tensor2d(sin.values, [n, half])];
    const [qt, kt, vt, bt] = [tf.tensor3d(q.values, [B, kvH * g, hd]), tf.tensor4d(k.values, [B, kvH, T, hd]), tf.tensor4d(v.values, [B, kvH, T, hd]), tf.tensor2d(bias.values, [B, T])];
    const vT = tf.transpose(vt, [0, 1, 3, 2]);
    const outs = [
      tf.engine().runKernel(ROPE_ROWS_KERNEL, { x: ts[0], cos: ts[1], sin: ts[2] }) as tf.Tensor,
      tf.engine().runKernel(STEP_ATTENTION_KERNEL, { q: qt, k: kt, vT, bias: bt }, { scale: 1 / Math.sqrt(hd) }) as tf.Tensor,
    ];
    expectClose(reference, outs.map((o) => ({ shape: o.shape, values: Array.from(o.dataSync()) })), 2e-6);
    tf.dispose([...ts, qt, kt, vt, bt, vT, ...outs]);
  });

  test('fused log-softmax pick and its gradient equal log softmax, gather and (onehot − softmax) · dy', async () => {
    const x = random([6, 37]);
    x.values[5] = -1e30;
    const targets = { shape: [6], values: Int32Array.from([0, 36, 5, 17, 17, 2]) };
    const dy = random([6]);
    const [reference] = await both([x, targets, dy], (l, t, d) => {
      const picked = tf.sum(tf.mul(tf.logSoftmax(l), tf.oneHot(t as tf.Tensor1D, 37)), -1);
      const grad = tf.mul(tf.sub(tf.oneHot(t as tf.Tensor1D, 37), tf.softmax(l)), tf.expandDims(d, -1));
      return [picked, grad];
    });
    await tf.setBackend(NATIVE_BACKEND);
    const [l, t, d] = [tf.tensor2d(x.values, [6, 37]), tf.tensor1d(targets.values, 'int32'), tf.tensor1d(dy.values)];
    const picked = tf.engine().runKernel(LOG_SOFTMAX_PICK_KERNEL, { logits: l, targets: t }) as tf.Tensor;
    const grad = tf.engine().runKernel(LOG_SOFTMAX_PICK_GRAD_KERNEL, { logits: l, targets: t, dy: d }) as tf.Tensor;
    expectClose(reference, [{ shape: picked.shape, values: Array.from(picked.dataSync()) }, { shape: grad.shape, values: Array.from(grad.dataSync()) }], 2e-6);
    tf.dispose([l, t, d, picked, grad]);
  });

  test('recycled output memory never overwrites values a caller holds, or a slice of them', async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const before = tf.memory().numTensors;
    const a = tf.fill([256, 128], 2);
    const b = tf.mul(a, 3);
    const held = b.dataSync();
    const view = tf.slice(b, [0, 0], [1, 128]);
    b.dispose();
    for (let i = 0; i < 4; i++) tf.dispose(tf.mul(a, 5 + i));
    expect(held[0]).toBe(6);
    expect(view.dataSync()[0]).toBe(6);
    const c = tf.mul(a, 4);
    const d = tf.mul(c, 1);
    c.dispose();
    const e = tf.mul(a, 7);
    expect(d.dataSync()[0]).toBe(8);
    tf.dispose([a, view, d, e]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('outputs that grow a little each call reuse the memory the previous call released (size classes), exactly their size', async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const valuesOf = (t: tf.Tensor) => (tf.engine().backend as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values;
    const before = tf.memory().numTensors;
    // A cache growing by one position a step: each output is 64 floats longer than the last.
    const buffers = new Set<ArrayBufferLike>();
    for (let t = 100; t < 110; t++) {
      const x = tf.fill([64, t], t);
      const y = tf.mul(x, 2);
      expect(valuesOf(y).length).toBe(64 * t);
      buffers.add(valuesOf(y).buffer);
      const sum = tf.sum(y);
      expect(sum.dataSync()[0]).toBe(2 * t * 64 * t);
      tf.dispose([x, y, sum]);
    }
    // Ten outputs of growing size, served by one or two recycled buffers rather than ten fresh ones.
    expect(buffers.size).toBeLessThanOrEqual(2);
    expect(tf.memory().numTensors).toBe(before);
  });
});
