import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NATIVE_BACKEND, ROWS_MATMUL_KERNEL, loadAddon, registerNativeBackend } from '@cope/backend-native';

/**
 * The row-invariant product against its definition: each output is the fused multiply-add chain over k in order,
 * computed here in float64 (a float32 product is exact there) and rounded to float32 after every step. Double
 * rounding could in principle differ from one fma rounding; on these inputs it does not, so any difference is the
 * kernel's. Then: the same bits whatever the row count, the thread count and the blocking, and bf16 weights.
 */
const addon = registerNativeBackend({ threads: 1 });
if (!addon) throw new Error(`${loadAddon().reason} (.ci/run installs libopenblas-dev so that the addon builds)`);

function random(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s / 2147483648 - 0.5;
  }
  return out;
}

function fmaChain(x: Float32Array, w: ArrayLike<number>, m: number, k: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let c = 0;
      for (let kk = 0; kk < k; kk++) c = Math.fround(x[i * k + kk] * w[kk * n + j] + c);
      out[i * n + j] = c;
    }
  }
  return out;
}

function mismatches(a: Float32Array, b: Float32Array): number[] {
  const bad: number[] = [];
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) bad.push(i);
  return bad;
}

describe("rowsGemm", () => {
  // Shapes around every block edge: 16-column vectors, 48- and 96-column tiles, 8-row tiles, 256-deep k blocks, 8-deep k panels.
  test.each([[37, 53], [256, 700], [600, 31], [1, 17], [9, 96], [257, 48]])('k %i, n %i: the fma chain, for 1..13 rows and 1 or 2 threads', (k, n) => {
    const w = random(k * n, 7);
    const x = random(13 * k, 3);
    const want = fmaChain(x, w, 13, k, n);
    for (const threads of [1, 2]) {
      for (const m of [1, 2, 3, 4, 5, 8, 13]) {
        const out = new Float32Array(m * n);
        addon.rowsGemm(x.subarray(0, m * k), w, out, m, k, n, threads);
        expect({ m, threads, bad: mismatches(out, want.subarray(0, m * n)) }).toEqual({ m, threads, bad: [] });
      }
    }
  });

  test('bf16 weights: the chain over the widened values', () => {
    const [m, k, n] = [5, 70, 40];
    const bits = new Uint16Array(k * n);
    const f = random(k * n, 11);
    new Uint32Array(f.buffer).forEach((u, i) => (bits[i] = u >>> 16));
    const widened = Float32Array.from(bits, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]);
    const x = random(m * k, 5);
    const out = new Float32Array(m * n);
    addon.rowsGemm(x, bits, out, m, k, n, 2);
    expect(mismatches(out, fmaChain(x, widened, m, k, n))).toEqual([]);
  });

  test('no k: zeros; shapes past the arrays are refused', () => {
    const out = new Float32Array(6).fill(3);
    addon.rowsGemm(new Float32Array(0), new Float32Array(0), out, 2, 0, 3, 1);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => addon.rowsGemm(new Float32Array(4), new Float32Array(4), out, 2, 2, 3, 1)).toThrow(/do not fit/);
  });

  test(`the ${ROWS_MATMUL_KERNEL} kernel: tfjs-backend-cpu's matMul to float32 noise, rows independent of the batch`, async () => {
    const [m, k, n] = [6, 96, 130];
    const x = random(m * k, 1);
    const w = random(k * n, 2);
    await tf.setBackend('cpu');
    const ref = tf.tidy(() => tf.matMul(tf.tensor2d(x, [m, k]), tf.tensor2d(w, [k, n])).dataSync());
    await tf.setBackend(NATIVE_BACKEND);
    const before = tf.memory().numTensors;
    const [all, one] = tf.tidy(() => {
      const wt = tf.tensor2d(w, [k, n]);
      const run = (rows: number) => (tf.engine().runKernel(ROWS_MATMUL_KERNEL, { x: tf.tensor2d(x.subarray(0, rows * k), [rows, k]), w: wt }) as tf.Tensor).dataSync() as Float32Array;
      return [run(m), run(1)];
    });
    expect(tf.memory().numTensors).toBe(before);
    all.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThanOrEqual(1e-5));
    expect(mismatches(one, all.subarray(0, n))).toEqual([]);
  });
});

describe('batchSgemm over threads', () => {
  // Each thread takes whole rows (or columns, or products) and OpenBLAS sums each output alike: the same bits.
  test.each([[1, 300, 200, 128, false, false], [1, 64, 700, 300, true, false], [1, 700, 64, 300, false, true], [3, 128, 128, 128, true, true], [1, 2, 5000, 512, false, false]] as const)(
    'batch %i, m %i, n %i, k %i, transA %s, transB %s: two threads give one thread\'s bits',
    (batch, m, n, k, ta, tb) => {
      const a = random(batch * m * k, 1);
      const b = random(batch * k * n, 2);
      const one = new Float32Array(batch * m * n);
      const two = new Float32Array(batch * m * n);
      addon.batchSgemm(a, b, one, batch, batch, batch, m, n, k, ta, tb, 0, 1);
      addon.batchSgemm(a, b, two, batch, batch, batch, m, n, k, ta, tb, 0, 2);
      expect(mismatches(two, one)).toEqual([]);
      // And the product itself: row 0, column 0 against a float64 sum.
      let s = 0;
      for (let kk = 0; kk < k; kk++) s += a[ta ? kk * m : kk] * b[tb ? kk : kk * n];
      expect(Math.abs(one[0] - s)).toBeLessThan(1e-4);
    },
  );
});

describe('transposeU16', () => {
  test('transposes 16-bit matrices of any shape, tile edges included', () => {
    for (const [rows, cols] of [[1, 1], [3, 130], [130, 3], [65, 129]]) {
      const src = Uint16Array.from({ length: rows * cols }, (_, i) => (i * 7919) & 0xffff);
      const dst = new Uint16Array(rows * cols);
      addon.transposeU16(src, dst, rows, cols);
      const bad = Array.from(dst).filter((v, i) => v !== src[(i % rows) * cols + Math.floor(i / rows)]).length;
      expect({ rows, cols, bad }).toEqual({ rows, cols, bad: 0 });
    }
    expect(() => addon.transposeU16(new Uint16Array(4), new Uint16Array(4), 3, 3)).toThrow(/do not fit/);
  });
});

describe('decoderStep arguments', () => {
  // One layer of B 1, H 16, 2 heads of 8, 1 kv head, F 32, 3 cached positions: every array the right size.
  const [B, H, heads, kvH, hd, F, Tp] = [1, 16, 2, 1, 8, 32, 3];
  const sizes = [B * H, H, H, H * H, H * kvH * hd, H * kvH * hd, H * H, H * F, H * F, F * H];
  const valid = (): Array<Float32Array | null> => [
    ...sizes.map((n, i) => random(n, i + 1)), null, null, null, ...new Array(14).fill(null), null,
    random(B * hd / 2, 20), random(B * hd / 2, 21), random(B * kvH * hd * Tp, 22), random(B * kvH * hd * Tp, 23), new Float32Array(B * (Tp + 1)),
    new Float32Array(B * H), new Float32Array(B * kvH * hd * (Tp + 1)), new Float32Array(B * kvH * hd * (Tp + 1)),
  ];
  const dims = (ranks = [0, 0, 0, 0, 0, 0, 0]) => Float64Array.from([B, H, heads, kvH, hd, F, Tp, 1e-5, 0.35, 0, 1, ...ranks]);

  test('a short or missing array is refused naming its index; a LoRA matrix without its pair or rank too', () => {
    expect(() => addon.decoderStep(valid(), dims())).not.toThrow();
    const short = valid();
    short[7] = new Float32Array(5); // o_proj's weight
    expect(() => addon.decoderStep(short, dims())).toThrow(/array 7 is missing, of the wrong type or too short/);
    const missing = valid();
    missing[32] = null; // the attention mask
    expect(() => addon.decoderStep(missing, dims())).toThrow(/array 32 is missing/);
    const halfPair = valid();
    halfPair[13] = random(H * 4, 30); // q_proj's LoRA A without its B
    expect(() => addon.decoderStep(halfPair, dims([4, 0, 0, 0, 0, 0, 0]))).toThrow(/needs both matrices/);
    expect(() => addon.decoderStep(valid().slice(1), dims())).toThrow(/expected \(36 or 43 arrays/);
    // Three heads of 8 need a [16, 24] q weight: the [16, 16] one is refused.
    expect(() => addon.decoderStep(valid(), Float64Array.from([B, H, 3, kvH, hd, F, Tp, 1e-5, 0.35, 0, 1, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/array 3 is/);
    expect(() => addon.decoderStep(valid(), Float64Array.from([B, H, heads, 3, hd, F, Tp, 1e-5, 0.35, 0, 1, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/bad dims/);
  });
});

describe('modelStep: a whole decoding step in one call', () => {
  // Two layers of H 256, 8 heads of 32, 2 kv heads, F 688, 5 cached positions, two rows, V 2000, a LoRA pair on
  // q_proj: 1.9M multiply-adds a row, so two threads run it as one team.
  const [B, H, heads, kvH, hd, F, Tp, V, L, r] = [2, 256, 8, 2, 32, 688, 5, 2000, 2, 4];
  const kvOut = kvH * hd;
  const sizes = [H * H, H * kvOut, H * kvOut, H * H, H * F, H * F, F * H];
  const h0 = random(B * H, 1);
  const norm = random(H, 2).map((v) => 1 + v);
  const head = random(H * V, 3).map((v) => v * 0.1);
  const layerIn = Array.from({ length: L }, (_, l) => ({
    norms: [random(H, 10 + l).map((v) => 1 + v), random(H, 20 + l).map((v) => 1 + v)],
    w: sizes.map((n, i) => random(n, 100 * (l + 1) + i).map((v) => v * 0.1)),
    loraA: random(H * r, 40 + l).map((v) => v * 0.1),
    loraB: random(r * H, 50 + l).map((v) => v * 0.1),
    k: random(B * kvOut * Tp, 60 + l),
    vT: random(B * kvOut * Tp, 70 + l),
  }));
  const cos = random(B * hd / 2, 80);
  const sin = random(B * hd / 2, 81);
  const mask = Float32Array.from({ length: B * (Tp + 1) }, (_, i) => (i === 0 ? -1e9 : 0));
  const scales = Float32Array.from([0.5, 0]);
  const dims = (threads: number) => Float64Array.from([B, H, heads, kvH, hd, F, Tp, 1e-5, 1 / Math.sqrt(hd), 0, threads, r, 0, 0, 0, 0, 0, 0]);
  /** Layer l's 36 arrays reading `h` and writing `out`. */
  const arrays = (l: number, h: Float32Array, out: { h: Float32Array; k: Float32Array; vT: Float32Array }) => {
    const x = layerIn[l];
    return [h, x.norms[0], x.norms[1], ...x.w, null, null, null, x.loraA, ...new Array(6).fill(null), x.loraB, ...new Array(6).fill(null), scales, cos, sin, x.k, x.vT, mask, out.h, out.k, out.vT];
  };
  const outputs = () => Array.from({ length: L }, () => ({ h: new Float32Array(B * H), k: new Float32Array(B * kvOut * (Tp + 1)), vT: new Float32Array(B * kvOut * (Tp + 1)) }));

  function whole(threads: number) {
    const outs = outputs();
    const logits = new Float32Array(B * V);
    addon!.modelStep(outs.map((o, l) => arrays(l, l === 0 ? h0 : outs[l - 1].h, o)), dims(threads), norm, head, logits, 1e-5, 0);
    return { logits, outs };
  }

  test('bitwise the layer steps, the norm kernel and the head product one by one, on one thread or a team of two', () => {
    const outs = outputs();
    outs.forEach((o, l) => addon!.decoderStep(arrays(l, l === 0 ? h0 : outs[l - 1].h, o), dims(1)));
    const normed = new Float32Array(B * H);
    addon!.fused(0, outs[L - 1].h, norm, null, normed, B, H, 1e-5);
    const logits = new Float32Array(B * V);
    addon!.rowsGemm(normed, head, logits, B, H, V, 1);
    for (const threads of [1, 2]) {
      const w = whole(threads);
      expect(Buffer.from(w.logits.buffer).equals(Buffer.from(logits.buffer))).toBe(true);
      w.outs.forEach((o, l) => {
        expect(Buffer.from(o.k.buffer).equals(Buffer.from(outs[l].k.buffer))).toBe(true);
        expect(Buffer.from(o.vT.buffer).equals(Buffer.from(outs[l].vT.buffer))).toBe(true);
      });
    }
    expect(logits.some((v) => v !== 0)).toBe(true);
  });

  test.each([[1, 7, 20], [2, 7, 20], [1, 33, 40], [2, 64, 48], [2, 1, 3]])('a product from a packed copy is rowsGemm\'s, float32 and bf16 (m %i, k %i, n %i)', (m, k, n) => {
    const x = random(m * k, 7);
    const w = random(k * n, 8);
    const bits = Uint16Array.from(w, (v) => new Uint32Array(Float32Array.of(v).buffer)[0] >>> 16);
    // bf16 panels pair rows kk and kk + 1 of a column (kk first), an odd last row with 0.
    const wpBits = new Uint16Array(Math.ceil(n / 16) * Math.ceil(k / 2) * 32);
    addon!.packPanels(bits, wpBits, k, n);
    wpBits.forEach((v, i) => {
      const [p, q, j, h] = [Math.floor(i / (Math.ceil(k / 2) * 32)), Math.floor(i / 32) % Math.ceil(k / 2), Math.floor(i / 2) % 16, i % 2];
      const [kk, col] = [2 * q + h, 16 * p + j];
      expect(v).toBe(kk < k && col < n ? bits[kk * n + col] : 0);
    });
    const wp = new Float32Array(Math.ceil(n / 16) * k * 16);
    addon!.packPanels(w, wp, k, n);
    for (const [weight, packedCopy] of [[w, wp], [bits, wpBits]] as const) {
      const plain = new Float32Array(m * n);
      const fromCopy = new Float32Array(m * n);
      addon!.rowsGemm(x, weight, plain, m, k, n, 1);
      addon!.packedGemm(x, packedCopy, fromCopy, m, k, n);
      expect(Buffer.from(fromCopy.buffer).equals(Buffer.from(plain.buffer))).toBe(true);
    }
    expect(() => addon!.packedGemm(x, wpBits.subarray(1), new Float32Array(m * n), m, k, n)).toThrow(/do not fit/);
  });

  test('packed weight copies: 16-column panels, and a step reading them bitwise the step reading the weights, one or two rows', () => {
    // The layout against its definition: panel p, row kk, lane j holds w[kk, 16p + j] (0 past the last column).
    const [k, n] = [3, 20];
    const w = random(k * n, 5);
    const wp = new Float32Array(2 * k * 16);
    addon!.packPanels(w, wp, k, n);
    const expected = Float32Array.from({ length: 2 * k * 16 }, (_, i) => {
      const [p, kk, j] = [Math.floor(i / (k * 16)), Math.floor(i / 16) % k, i % 16];
      return 16 * p + j < n ? w[kk * n + 16 * p + j] : 0;
    });
    expect(Array.from(wp)).toEqual(Array.from(expected));
    const ins = [H, H, H, H, H, H, F];
    const outsOf = [H, kvOut, kvOut, H, F, F, H];
    const packed = layerIn.map((x) => x.w.map((wi, i) => {
      const copy = new Float32Array(Math.ceil(outsOf[i] / 16) * ins[i] * 16);
      addon!.packPanels(wi, copy, ins[i], outsOf[i]);
      return copy;
    }));
    // One row: the same arrays read as a batch of their first row.
    const rowsDims = (rows: number, threads: number) => Float64Array.from([rows, ...Array.from(dims(threads)).slice(1)]);
    const step = (rows: number, threads: number, withCopies: boolean) => {
      const outs = outputs();
      const logits = new Float32Array(B * V);
      addon!.modelStep(outs.map((o, l) => [...arrays(l, l === 0 ? h0 : outs[l - 1].h, o), ...(withCopies ? packed[l] : [])]), rowsDims(rows, threads), norm, head, logits, 1e-5, 0);
      return { logits, k: outs.map((o) => o.k) };
    };
    for (const rows of [1, 2]) {
      for (const threads of [1, 2]) {
        const plain = step(rows, threads, false);
        const read = step(rows, threads, true);
        expect(Buffer.from(read.logits.buffer).equals(Buffer.from(plain.logits.buffer))).toBe(true);
        read.k.forEach((k, l) => expect(Buffer.from(k.buffer).equals(Buffer.from(plain.k[l].buffer))).toBe(true));
      }
    }
    expect(() => addon!.packPanels(w, new Float32Array(2 * k * 16 - 1), k, n)).toThrow(/do not fit/);
  });

  test('a packed head (float32 or bf16) gives the same logits, one or two rows, one thread or two; a wrong one is refused', () => {
    const ids = Int32Array.from([7, 1234]);
    const table = random(V * H, 90);
    const headBits = Uint16Array.from(head, (v) => new Uint32Array(Float32Array.of(v).buffer)[0] >>> 16);
    const packedF32 = new Float32Array(Math.ceil(V / 16) * H * 16);
    addon!.packPanels(head, packedF32, H, V);
    const packedBits = new Uint16Array(Math.ceil(V / 16) * Math.ceil(H / 2) * 32);
    addon!.packPanels(headBits, packedBits, H, V);
    const rowsDims = (rows: number, threads: number) => Float64Array.from([rows, ...Array.from(dims(threads)).slice(1)]);
    const run = (rows: number, threads: number, weight: Float32Array | Uint16Array, copy: Float32Array | Uint16Array | null) => {
      const outs = outputs();
      const logits = new Float32Array(B * V);
      addon!.modelStep(outs.map((o, l) => arrays(l, l === 0 ? new Float32Array(B * H) : outs[l - 1].h, o)), rowsDims(rows, threads), norm, weight, logits, 1e-5, weight instanceof Uint16Array ? 1 : 0, ids, table, copy);
      return Buffer.from(logits.buffer);
    };
    for (const rows of [1, 2]) {
      for (const threads of [1, 2]) {
        expect(run(rows, threads, head, packedF32).equals(run(rows, threads, head, null))).toBe(true);
        expect(run(rows, threads, headBits, packedBits).equals(run(rows, threads, headBits, null))).toBe(true);
      }
    }
    expect(() => run(2, 1, headBits, packedF32)).toThrow(/packed head/);
    expect(() => run(2, 1, head, packedF32.subarray(16))).toThrow(/packed head/);
  });

  test('with ids, the tokens are looked up in the kernel: rows of the table, or columns of a float32 head', () => {
    const ids = Int32Array.from([7, 1234]);
    const table = random(V * H, 90);
    const given = (rows: Float32Array) => {
      const outs = outputs();
      const logits = new Float32Array(B * V);
      addon!.modelStep(outs.map((o, l) => arrays(l, l === 0 ? rows : outs[l - 1].h, o)), dims(2), norm, head, logits, 1e-5, 0);
      return logits;
    };
    const lookedUp = (embed: Float32Array | null) => {
      const outs = outputs();
      const logits = new Float32Array(B * V);
      const h = new Float32Array(B * H);
      addon!.modelStep(outs.map((o, l) => arrays(l, l === 0 ? h : outs[l - 1].h, o)), dims(2), norm, head, logits, 1e-5, 0, ids, embed);
      return { logits, h };
    };
    const tableRows = Float32Array.from({ length: B * H }, (_, i) => table[ids[Math.floor(i / H)] * H + (i % H)]);
    const headColumns = Float32Array.from({ length: B * H }, (_, i) => head[(i % H) * V + ids[Math.floor(i / H)]]);
    for (const [embed, rows] of [[table, tableRows], [null, headColumns]] as const) {
      const r = lookedUp(embed);
      expect(Buffer.from(r.h.buffer).equals(Buffer.from(rows.buffer))).toBe(true);
      expect(Buffer.from(r.logits.buffer).equals(Buffer.from(given(rows).buffer))).toBe(true);
    }
    const outs = outputs();
    expect(() => addon!.modelStep(outs.map((o, l) => arrays(l, l === 0 ? new Float32Array(B * H) : outs[l - 1].h, o)), dims(1), norm, head, new Float32Array(B * V), 1e-5, 0, Int32Array.from([0, V]), null))
      .toThrow(/ids \[B\] in \[0, V\)/);
  });

  describe('decoding sessions: the cache kept natively, appended in place', () => {
    const table = random(V * H, 90);
    const steps = [Int32Array.from([7, 1234]), Int32Array.from([3, 99]), Int32Array.from([1999, 0])];
    const angles = steps.map((_, s) => [random(B * hd / 2, 200 + s), random(B * hd / 2, 300 + s)]);
    const pastBias = Float32Array.from({ length: B * Tp }, (_, i) => (i === 0 ? -1e9 : 0));
    type Cache = Array<{ k: Float32Array; vT: Float32Array }>;
    const layerArrays = (l: number, sc: Float32Array, cache: Cache, io?: { h: Float32Array; bias: Float32Array; cos: Float32Array; sin: Float32Array; out: { h: Float32Array; k: Float32Array; vT: Float32Array } }) => {
      const x = layerIn[l];
      return [io?.h ?? null, x.norms[0], x.norms[1], ...x.w, null, null, null, x.loraA, ...new Array(6).fill(null), x.loraB, ...new Array(6).fill(null), sc,
        io?.cos ?? null, io?.sin ?? null, cache[l].k, cache[l].vT, io?.bias ?? null, io?.out.h ?? null, io?.out.k ?? null, io?.out.vT ?? null];
    };
    const dimsOf = (rows: number, T: number, threads: number) => Float64Array.from([rows, H, heads, kvH, hd, F, T, 1e-5, 1 / Math.sqrt(hd), 0, threads, r, 0, 0, 0, 0, 0, 0]);
    const initial: Cache = layerIn.map((x) => ({ k: x.k, vT: x.vT }));

    /** modelStep over `cache` (rows × T positions) and its mask bias: the logits, and the cache and bias with this position. */
    function reference(cache: Cache, bias: Float32Array, rows: number, T: number, ids: Int32Array, cos: Float32Array, sin: Float32Array, sc: Float32Array, threads: number) {
      const outs = layerIn.map(() => ({ h: new Float32Array(rows * H), k: new Float32Array(rows * kvOut * (T + 1)), vT: new Float32Array(rows * kvOut * (T + 1)) }));
      const grown = Float32Array.from({ length: rows * (T + 1) }, (_, i) => (i % (T + 1) < T ? bias[Math.floor(i / (T + 1)) * T + (i % (T + 1))] : 0));
      const layers = outs.map((out, l) => layerArrays(l, sc, cache, { h: l === 0 ? new Float32Array(rows * H) : outs[l - 1].h, bias: grown, cos, sin, out }));
      const logits = new Float32Array(rows * V);
      addon!.modelStep(layers, dimsOf(rows, T, threads), norm, head, logits, 1e-5, 0, ids, table);
      return { logits, cache: outs.map((o) => ({ k: o.k, vT: o.vT })), bias: grown };
    }
    const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    const headCopy = new Float32Array(Math.ceil(V / 16) * H * 16);
    addon!.packPanels(head, headCopy, H, V);
    const open = (threads: number, capacity: number, packedHead: Float32Array | null = null) =>
      addon!.sessionOpen(layerIn.map((_, l) => layerArrays(l, scales, initial)), dimsOf(B, Tp, threads), norm, head, 1e-5, 0, table, pastBias, capacity, packedHead);

    test.each([[1, false], [2, false], [2, true]])('each step bitwise modelStep over the cache the step before returned, past the room made at first (%i threads, a packed head: %s)', (threads, withCopy) => {
      {
        const session = open(threads as number, Tp + 1, withCopy ? headCopy : null);
        let ref = { cache: initial, bias: pastBias };
        steps.forEach((ids, s) => {
          const expected = reference(ref.cache, ref.bias, B, Tp + s, ids, angles[s][0], angles[s][1], scales, threads as number);
          const logits = new Float32Array(B * V);
          addon!.sessionStep(session, ids, angles[s][0], angles[s][1], logits);
          expect(same(logits, expected.logits)).toBe(true);
          ref = expected;
        });
        addon!.sessionClose(session);
      }
    });

    test('kept rows go on as a batch of those rows alone, with their scales', () => {
      const session = open(1, 64);
      const first = reference(initial, pastBias, B, Tp, steps[0], angles[0][0], angles[0][1], scales, 1);
      addon!.sessionStep(session, steps[0], angles[0][0], angles[0][1], new Float32Array(B * V));
      addon!.sessionKeep(session, Int32Array.from([1]), Float32Array.from([0.25]));
      // Row 1's cache, bias and angles alone, with the new scale.
      const T = Tp + 1;
      const row1 = first.cache.map((c) => ({ k: c.k.slice(kvOut * T), vT: c.vT.slice(kvOut * T) }));
      const half = hd / 2;
      const expected = reference(row1, first.bias.slice(T), 1, T, steps[1].slice(1), angles[1][0].slice(half), angles[1][1].slice(half), Float32Array.from([0.25]), 1);
      const logits = new Float32Array(V);
      addon!.sessionStep(session, steps[1].slice(1), angles[1][0].slice(half), angles[1][1].slice(half), logits);
      expect(same(logits, expected.logits)).toBe(true);
      addon!.sessionClose(session);
    });

    test('bad arguments are refused, and a closed session too', () => {
      const session = open(1, 8);
      const logits = new Float32Array(B * V);
      expect(() => addon!.sessionStep(session, Int32Array.from([0, V]), angles[0][0], angles[0][1], logits)).toThrow(/ids \[B\] in \[0, V\)/);
      expect(() => addon!.sessionStep(session, steps[0], angles[0][0], angles[0][1], new Float32Array(V))).toThrow(/logits \[B, V\]/);
      expect(() => addon!.sessionKeep(session, Int32Array.from([1, 0]), null)).toThrow(/rows increasing/);
      expect(() => addon!.sessionKeep(session, Int32Array.from([2]), null)).toThrow(/rows increasing/);
      expect(() => addon!.sessionOpen(layerIn.map((_, l) => layerArrays(l, scales, initial)), dimsOf(B, Tp, 1), norm, head, 1e-5, 0, table, new Float32Array(1), 8)).toThrow(/bias \[B, Tp\]/);
      addon!.sessionClose(session);
      expect(() => addon!.sessionStep(session, steps[0], angles[0][0], angles[0][1], logits)).toThrow(/expected an open session/);
    });
  });

  test('bad arguments are refused', () => {
    const outs = outputs();
    const layers = outs.map((o, l) => arrays(l, l === 0 ? h0 : outs[l - 1].h, o));
    expect(() => addon!.modelStep([], dims(1), norm, head, new Float32Array(B * V), 1e-5, 0)).toThrow(/modelStep: expected/);
    expect(() => addon!.modelStep(layers, dims(1), norm, head, new Float32Array(B * V - 1), 1e-5, 0)).toThrow(/logits do not fit \[B, V\]/);
    const short = layers.map((a) => a.slice());
    short[1][7] = new Float32Array(3);
    expect(() => addon!.modelStep(short, dims(1), norm, head, new Float32Array(B * V), 1e-5, 0)).toThrow(/array 7 is missing, of the wrong type or too short/);
  });
});
