import { Rng } from '@cope/core';
import { expShift } from '../src/kernels/exp-f64.js';

/** Every element of expShift(xs, shift) against V8's Math.exp(x - shift), bit for bit (Object.is: -0, NaN). */
function mismatches(xs: ArrayLike<number>, shift: number): string[] {
  const out = expShift(xs, shift);
  const bad: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    const ref = Math.exp(xs[i] - shift);
    if (!Object.is(out[i], ref)) bad.push(`exp(${xs[i]} - ${shift}) = ${out[i]}, Math.exp gives ${ref}`);
  }
  return bad;
}

/** The next double above (dir 1) or below (dir -1) x, for finite x. */
function nextDouble(x: number, dir: 1 | -1): number {
  const b = new Float64Array([x]);
  const u = new BigInt64Array(b.buffer);
  if (x === 0) return dir * Number.MIN_VALUE;
  u[0] += (x > 0) === (dir > 0) ? 1n : -1n;
  return b[0];
}

describe('float64 exp kernel (fdlibm, as Math.exp)', () => {
  const rng = new Rng(17);

  test.each([0.01, 0.5, 3, 30, 300, 1000])('random arguments of scale %d, shifted by 0 and by their max: Math.exp bit for bit', (scale) => {
    const xs = Float64Array.from({ length: 20003 }, () => rng.normal() * scale);
    let max = -Infinity;
    for (const x of xs) max = Math.max(max, x);
    expect(mismatches(xs, 0)).toEqual([]);
    expect(mismatches(xs, max)).toEqual([]);
  });

  test('special values and both sides of every range boundary of fdlibm (main range, k = ±1 and k = 0, tiny, overflow, underflow, subnormal results)', () => {
    const edges = [0, 0.34657359027997264, 1.0397207708399179, 2 ** -28, 1, Math.LN2, 708, 709.782712893384, 709.7822265625, 745.1332191019411, 745.2, 740, 1e-300];
    const xs: number[] = [-0, Infinity, -Infinity, NaN, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE];
    for (const e of edges) for (const s of [1, -1]) {
      let x = s * e;
      xs.push(x);
      for (let k = 0; k < 3; k++) xs.push((x = nextDouble(x, 1)));
      x = s * e;
      for (let k = 0; k < 3; k++) xs.push((x = nextDouble(x, -1)));
    }
    expect(mismatches(xs, 0)).toEqual([]);
    // Every array length's remainder (the kernel takes four elements at a time).
    for (let n = 1; n <= 9; n++) expect(mismatches(xs.slice(0, n), 0.5)).toEqual([]);
  });

  test('removed tokens (−∞) give +0 and infinite shifts follow Math.exp', () => {
    const xs = Float64Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? -Infinity : rng.normal()));
    expect(mismatches(xs, 1.5)).toEqual([]);
    expect(Array.from(expShift(xs, 1.5)).filter((_, i) => i % 3 === 0).every((x) => Object.is(x, 0))).toBe(true);
    expect(mismatches(xs, -Infinity)).toEqual([]);
    expect(mismatches(xs, Infinity)).toEqual([]);
  });
});
