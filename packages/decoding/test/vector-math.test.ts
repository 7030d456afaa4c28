import { Rng } from '@cope/model';
import { expShiftSum, logAffine, workspace } from '../src/kernels/vector-math.js';

/** Relative distance, for comparing against V8's Math.exp / Math.log (themselves within 1 ulp). */
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('vector exp / log kernels', () => {
  const rng = new Rng(11);

  test.each([1, 3, 4, 7, 8000, 8003])('exp(a - shift) and its sum match Math.exp within 4e-16 (n = %i)', (n) => {
    const [a] = workspace(n, 1).f64;
    const xs = Array.from({ length: n }, () => (rng.next() * 2 - 1) * 700);
    a.set(xs);
    const sum = expShiftSum(a, a, 0.25);
    let ref = 0;
    let worst = 0;
    xs.forEach((x, i) => {
      const e = Math.exp(x - 0.25);
      ref += e;
      worst = Math.max(worst, rel(a[i], e));
    });
    expect(worst).toBeLessThan(4e-16);
    expect(rel(sum, ref)).toBeLessThan(1e-14);
  });

  test('exp: exact at 0, 1 and ln 2 multiples; clamps below -708 to a tiny positive number', () => {
    const [a] = workspace(8, 1).f64;
    a.set([0, 1, Math.LN2 * 10, -Math.LN2 * 3, -745, -Infinity, 709, 2]);
    expShiftSum(a, a, 0);
    expect(a[0]).toBe(1);
    expect(rel(a[1], Math.E)).toBeLessThan(3e-16);
    expect(rel(a[2], 1024)).toBeLessThan(3e-16);
    expect(rel(a[3], 0.125)).toBeLessThan(3e-16);
    expect(a[4]).toBeGreaterThan(0);
    expect(a[4]).toBeLessThan(1e-300);
    expect(a[5]).toBeLessThan(1e-300);
    expect(rel(a[6], Math.exp(709))).toBeLessThan(4e-16);
  });

  test.each([1, 5, 4096, 8002])('log(a·scale + offset) matches Math.log within 4e-16 over 1e-300 .. 1e300 and near 1 (n = %i)', (n) => {
    const [a] = workspace(n, 1).f64;
    const xs = Array.from({ length: n }, (_, i) => (i % 2 ? Math.exp((rng.next() * 2 - 1) * 690) : 1 + (rng.next() * 2 - 1) * 1e-3));
    a.set(xs);
    logAffine(a, 0.5, 1e-8);
    let worst = 0;
    xs.forEach((x, i) => (worst = Math.max(worst, rel(a[i], Math.log(x * 0.5 + 1e-8)))));
    expect(worst).toBeLessThan(4e-16);
  });

  test.each([5, 8000, 8003])('exp from float32 inputs into float64 outputs (n = %i)', (n) => {
    const { f64: [out], f32: [x] } = workspace(n, 1, 1);
    x.set(Array.from({ length: n }, () => (rng.next() * 2 - 1) * 80));
    const sum = expShiftSum(x, out, -1.5);
    let ref = 0;
    let worst = 0;
    x.forEach((v, i) => {
      const e = Math.exp(v + 1.5);
      ref += e;
      worst = Math.max(worst, rel(out[i], e));
    });
    expect(worst).toBeLessThan(4e-16);
    expect(rel(sum, ref)).toBeLessThan(1e-14);
    expect(() => expShiftSum(x, workspace(n + 1, 1).f64[0], 0)).toThrow(/inputs/);
  });

  test('arrays are disjoint, aligned for the kernel, and survive memory growth', () => {
    const { f64: [a, b], f32: [c] } = workspace(5, 2, 1);
    for (const t of [a, b, c]) expect(t.byteOffset % 16).toBe(0);
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + 5 * 8);
    expect(c.byteOffset).toBeGreaterThanOrEqual(b.byteOffset + 5 * 8);
    const big = workspace(3_000_000, 2).f64; // grows the module memory past 48 MB
    big[1][2_999_999] = 2;
    expect(logAffine(big[1].subarray(2_999_996), 1, 0)).toBeUndefined();
    expect(big[1][2_999_999]).toBeCloseTo(Math.LN2, 15);
  });
});
