import { Rng } from '@cope/core';
import { loadAddon } from '@cope/backend-native';
import { readFileSync } from 'node:fs';
import { affine, expShiftSum, logAffine, logContrastAtLeast, maxOf, nativePicks, setPickThreads, sumAtLeast, vectorMathImplementation, workspace } from '../src/kernels/vector-math.js';
import { argmaxLogSoftmax, contrastiveGreedy, contrastiveScores, type ContrastiveMath } from '../src/scores.js';

/** The kernel tests run on both implementations: the addon's AVX-512 passes (where built) and the WebAssembly module. */
const IMPLEMENTATIONS = ['native', 'wasm'] as const;

/** Relative distance to V8's float64 Math.exp / Math.log (within 1 ulp of float64, so exact for float32). */
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
/** Two float32 ulps, relative. */
const TWO_ULP = 2 * 2 ** -23;

describe.each(IMPLEMENTATIONS)('vector max / exp / log kernels (float32, %s)', (impl) => {
  const rng = new Rng(11);
  beforeAll(() => void vectorMathImplementation(impl));
  afterAll(() => void vectorMathImplementation('native'));

  test.each([1, 3, 8, 13, 8000, 8003])('exp(a - shift) within 2 ulp of Math.exp of the float32 difference, sum within 1e-7 (n = %i)', (n) => {
    const [a] = workspace(n, 1);
    a.set(Array.from({ length: n }, () => (rng.next() * 2 - 1) * 80));
    const xs = Array.from(a);
    const sum = expShiftSum(a, a, 0.25);
    let ref = 0;
    let worst = 0;
    xs.forEach((x, i) => {
      const e = Math.exp(Math.fround(x - 0.25));
      ref += e;
      worst = Math.max(worst, rel(a[i], e));
    });
    expect(worst).toBeLessThan(TWO_ULP);
    expect(rel(sum, ref)).toBeLessThan(1e-7);
  });

  test('exp: exact at 0 and ln 2 multiples; clamps below -87.3 to a tiny positive number', () => {
    const [a] = workspace(16, 1);
    a.set([0, 1, Math.LN2 * 10, -Math.LN2 * 3, -100, -Infinity, 88, 2, -87, -0.5, 0.5, 3, -3, 10, -10, 1e-6]);
    const xs = Array.from(a);
    expShiftSum(a, a, 0);
    expect(a[0]).toBe(1);
    expect(rel(a[1], Math.E)).toBeLessThan(TWO_ULP);
    expect(rel(a[2], 1024)).toBeLessThan(TWO_ULP);
    expect(rel(a[3], 0.125)).toBeLessThan(TWO_ULP);
    expect(a[4]).toBeGreaterThan(0);
    expect(a[4]).toBeLessThan(2e-38);
    expect(a[5]).toBeLessThan(2e-38);
    for (const i of [6, 7, 8, 9, 10, 11, 12, 13, 14, 15]) expect(rel(a[i], Math.exp(xs[i]))).toBeLessThan(TWO_ULP);
  });

  test.each([1, 5, 4096, 8002])('log(a·scale + offset) within 2 ulp of Math.log over 1e-37 .. 1e37 and near 1 (n = %i)', (n) => {
    const [a] = workspace(n, 1);
    a.set(Array.from({ length: n }, (_, i) => (i % 2 ? Math.exp((rng.next() * 2 - 1) * 85) : 1 + (rng.next() * 2 - 1) * 1e-2)));
    const xs = Array.from(a);
    logAffine(a, 0.5, 1e-8);
    let worst = 0;
    xs.forEach((x, i) => {
      // The argument as float32 computes it; the kernel's error is then in the logarithm alone. Near 1 the
      // logarithm is small, so compare with an absolute floor of one ulp of the argument.
      const arg = Math.fround(Math.fround(x * 0.5) + Math.fround(1e-8));
      const ref = Math.log(arg);
      worst = Math.max(worst, Math.abs(a[i] - ref) / Math.max(Math.abs(ref), 1));
    });
    expect(worst).toBeLessThan(TWO_ULP);
  });

  test.each([1, 7, 8, 9, 8003])('max: the largest element, NaN when one is NaN (n = %i)', (n) => {
    const [a] = workspace(n, 1);
    a.set(Array.from({ length: n }, () => rng.normal() * 5 - 100));
    const at = rng.int(n);
    a[at] = 3;
    expect(maxOf(a)).toBe(3);
    a[rng.int(n)] = NaN;
    expect(maxOf(a)).toBeNaN();
    expect(maxOf(a.subarray(0, 0))).toBe(-Infinity);
  });

  test('arrays are disjoint, aligned for the kernel, and survive memory growth', () => {
    const [a, b, c] = workspace(5, 3);
    for (const t of [a, b, c]) expect(t.byteOffset % 32).toBe(0);
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + 5 * 4);
    expect(c.byteOffset).toBeGreaterThanOrEqual(b.byteOffset + 5 * 4);
    const big = workspace(6_000_000, 2); // grows the module memory past 48 MB
    big[1][5_999_999] = 2;
    expect(logAffine(big[1].subarray(5_999_992), 1, 0)).toBeUndefined();
    expect(big[1][5_999_999]).toBeCloseTo(Math.LN2, 6);
    expect(() => expShiftSum(big[0], workspace(7, 1)[0], 0)).toThrow(/inputs/);
  });
});

describe.each(IMPLEMENTATIONS)('the exponentials\' sum order (%s)', (impl) => {
  beforeAll(() => void vectorMathImplementation(impl));
  afterAll(() => void vectorMathImplementation('native'));

  /**
   * The documented order, in plain JavaScript over the stored exponentials: chunks of 1024 elements, each from zero
   * into four float64 lanes (lane j takes float32(e[j] + e[j + 4]) of every eight), (l0 + l2) + (l1 + l3) a chunk, the
   * chunks' sums added in order, then the elements past the last eight one by one.
   */
  const documentedSum = (e: Float32Array) => {
    const bulk = e.length - (e.length % 8);
    let sum = 0;
    for (let c = 0; c < bulk; c += 1024) {
      const l = [0, 0, 0, 0];
      for (let i = c; i < Math.min(c + 1024, bulk); i += 8) for (let j = 0; j < 4; j++) l[j] += Math.fround(e[i + j] + e[i + j + 4]);
      sum += l[0] + l[2] + (l[1] + l[3]);
    }
    for (let i = bulk; i < e.length; i++) sum += e[i];
    return sum;
  };

  test.each([8, 1024, 1032, 8000, 8003, 32000])('expShiftSum adds its results in that order, bit for bit (n = %i)', (n) => {
    const rng = new Rng(15);
    const [a, out] = workspace(n, 2);
    // Wide values: the order matters for the last bits.
    a.set(Array.from({ length: n }, () => (rng.next() * 2 - 1) * 40));
    const sum = expShiftSum(a, out, 3);
    expect(sum).toBe(documentedSum(out));
  });
});

describe.each(IMPLEMENTATIONS)('vector affine map and threshold selection (%s)', (impl) => {
  const rng = new Rng(12);
  beforeAll(() => void vectorMathImplementation(impl));
  afterAll(() => void vectorMathImplementation('native'));

  test.each([1, 8, 13, 8003])('affine: float32 a·scale + offset (n = %i)', (n) => {
    const [a, b] = workspace(n, 2);
    a.set(Array.from({ length: n }, () => rng.normal() * 30));
    affine(a, b, -0.1, Math.log(1e-8));
    a.forEach((x, i) => expect(b[i]).toBe(Math.fround(Math.fround(x * Math.fround(-0.1)) + Math.fround(Math.log(1e-8)))));
    affine(a, a, 2, 0);
    expect(() => affine(a, workspace(n + 1, 1)[0], 1, 0)).toThrow(/outputs/);
  });

  /** Values in [0, 1] with runs of eight below the threshold (skipped blocks), ties with it, and a NaN. */
  const thresholded = (n: number, th: number) => {
    const [a] = workspace(n, 1);
    a.set(Array.from({ length: n }, (_, i) => (Math.floor(i / 8) % 3 === 1 ? th * rng.next() * 0.99 : rng.next())));
    a[n - 1] = th; // equal to the threshold counts
    if (n > 2) a[1] = NaN;
    return a;
  };

  test.each([[1, 0], [9, 0.5], [8000, 0.999], [8003, 0.1], [8003, 2]])('sum of the elements >= threshold, in index order, in float64 (n = %i, threshold %f)', (n, th) => {
    const a = thresholded(n, th);
    const t = Math.fround(th);
    let want = 0;
    for (const x of a) if (x >= t) want += x;
    expect(sumAtLeast(a, th)).toBe(want);
  });

  test.each([[1, 0, 0.1], [9, 0.5, 0.1], [8000, 0.1, 0.7], [8003, 0.1, 0.1], [8003, 2, 0.1], [8003, 0.1, 0]])(
    'log(a·scale + offset) − λ·b where a >= threshold, the rest untouched (n = %i, threshold %f, λ %f)',
    (n, th, lam) => {
      const a = thresholded(n, th);
      const [b, out] = workspace(n, 3).slice(1);
      b.set(Array.from({ length: n }, () => -rng.next() * 18));
      out.fill(-7.5);
      const scale = 1 / 3.7;
      logContrastAtLeast(a, b, out, th, scale, 1e-8, lam);
      const t = Math.fround(th);
      let worst = 0;
      a.forEach((x, i) => {
        if (!(x >= t)) return expect(out[i]).toBe(-7.5);
        const logArg = Math.log(Math.fround(Math.fround(x * Math.fround(scale)) + Math.fround(1e-8)));
        // The logarithm within 2 ulp (as logAffine), plus the float32 rounding of the difference.
        const want = logArg - lam * b[i];
        const u = 2 ** -23;
        worst = Math.max(worst, Math.abs(out[i] - want) / (2 * u * Math.max(Math.abs(logArg), 1) + 0.5 * u * Math.abs(want)));
      });
      expect(worst).toBeLessThan(1);
      expect(() => logContrastAtLeast(a, b.subarray(1), out, th, 1, 0, lam)).toThrow(/subtrahends/);
    },
  );

  test('the contrast is float32(log − λ·b) with the difference in float64, as JavaScript computes it', () => {
    const [a, b, viaLog, out] = workspace(16, 4);
    a.set(Array.from({ length: 16 }, () => 0.2 + rng.next() * 0.8));
    b.set(Array.from({ length: 16 }, () => -rng.next() * 18));
    viaLog.set(a);
    logAffine(viaLog, 0.25, 1e-8); // the same polynomial on the same lanes
    logContrastAtLeast(a, b, out, 0.1, 0.25, 1e-8, 0.1);
    viaLog.forEach((l, i) => expect(out[i]).toBe(Math.fround(l - 0.1 * b[i])));
  });
});

describe('the native passes against the WebAssembly module', () => {
  afterAll(() => void vectorMathImplementation('native'));

  test('under Node with the addon built on an AVX-512 CPU, the native passes run', () => {
    const avx512 = /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) && /\bavx512dq\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
    expect(vectorMathImplementation('native')).toBe(loadAddon().addon && avx512 ? 'native' : 'wasm');
  });

  test('every pass gives the same bits, sums included, on wide, tied, signed-zero, infinite, NaN and subnormal inputs', () => {
    const rng = new Rng(13);
    const specials = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1e-40, 3.4e38, -3.4e38, 88.5, -87.5, 0.1, 0.1];
    for (const n of [8, 16, 24, 8000, 8003, 32000]) {
      const values = Float32Array.from({ length: n }, (_, i) => (i % 97 === 5 ? specials[((i / 97) | 0) % specials.length] : (rng.next() * 2 - 1) * (i % 3 ? 20 : 90)));
      const positive = values.map((v) => Math.abs(v) + 1e-30);
      const run = (impl: 'native' | 'wasm') => {
        vectorMathImplementation(impl);
        const [a, b, c, d] = workspace(n, 4);
        const out: number[] = [];
        a.set(values);
        out.push(maxOf(a));
        out.push(expShiftSum(a, b, 1.5));
        c.set(positive);
        logAffine(c, 0.37, 1e-8);
        affine(a, d, -0.1, -18.42);
        out.push(sumAtLeast(b, 0.05));
        logContrastAtLeast(b, c, d, 0.05, 0.5, 1e-8, 0.1);
        const finite = new Float32Array(n).map((_, i) => (Number.isFinite(values[i]) ? values[i] : 1));
        a.set(finite);
        out.push(maxOf(a), expShiftSum(a, a, maxOf(a)));
        return { sums: out, arrays: [a, b, c, d].map((x) => Buffer.from(x.slice().buffer)) };
      };
      const nat = run('native');
      const wasm = run('wasm');
      // A NaN result is NaN on both (its payload bits may differ); every other result is the same number.
      nat.sums.forEach((x, i) => expect(Object.is(x, wasm.sums[i])).toBe(true));
      nat.arrays.forEach((x, i) => expect(x.equals(wasm.arrays[i])).toBe(true));
    }
  });
});

describe('the native one-call steps against the passes one at a time (WebAssembly)', () => {
  afterAll(() => void vectorMathImplementation('native'));
  const hasNative = () => vectorMathImplementation('native') === 'native';

  test('a vocabulary of whole blocks takes the one-call steps where the native passes run', () => {
    vectorMathImplementation('native');
    expect(!!nativePicks(8000)).toBe(hasNative());
    expect(nativePicks(8003)).toBeNull();
    expect(nativePicks(0)).toBeNull();
    vectorMathImplementation('wasm');
    expect(nativePicks(8000)).toBeNull();
  });

  test('greedy and contrastive steps give the same tokens, log-probabilities and scores, bit for bit', () => {
    const rng = new Rng(14);
    const specials = [0, -0, Infinity, -Infinity, NaN, 1e-45, 3.4e38, -3.4e38, 88.5, -87.5];
    const cases: Array<{ expert: Float32Array; amateur: Float32Array }> = [];
    for (const n of [8, 24, 8000, 32000]) {
      const wide = () => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * 30);
      // An untrained model (every token plausible), a peaked one (few plausible), ties, and special values.
      cases.push({ expert: wide(), amateur: wide() });
      cases.push({ expert: Float32Array.from({ length: n }, (_, i) => (i % 50 === 3 ? 12 : rng.normal())), amateur: wide() });
      const tied = wide().fill(2, 0, Math.min(n, 5));
      cases.push({ expert: tied, amateur: tied.slice() });
      const special = wide().map((v, i) => (i % 7 === 1 ? specials[(i / 7) % specials.length | 0] : v));
      cases.push({ expert: special, amateur: wide() }, { expert: wide(), amateur: special });
    }
    const settings: ContrastiveMath[] = [
      { contrastiveAlpha: 0.1, plausibility: 0.1, masked: 'eps' }, { contrastiveAlpha: 0.5, plausibility: 0.3, masked: 'inf' },
      { contrastiveAlpha: 0, plausibility: 0.1, masked: 'eps' }, { contrastiveAlpha: 1, plausibility: 0, masked: 'eps' }, { contrastiveAlpha: 0.1, plausibility: 1, masked: 'eps' },
    ];
    const run = (impl: 'native' | 'wasm') => {
      vectorMathImplementation(impl);
      return cases.flatMap(({ expert, amateur }) => [
        argmaxLogSoftmax(expert), argmaxLogSoftmax(amateur),
        ...settings.flatMap((c) => [contrastiveGreedy(expert, amateur, c), Buffer.from(new Float32Array(contrastiveScores(expert, amateur, c)).buffer)]),
      ]);
    };
    setPickThreads(2);
    const fused = run('native');
    const passes = run('wasm');
    // The one-call steps on a team of 1, 2 and 3 threads (whole chunks each) give the same bits.
    setPickThreads(1);
    const single = run('native');
    setPickThreads(3);
    const three = run('native');
    setPickThreads(undefined);
    for (const other of [single, three]) other.forEach((x, i) => expect(Buffer.isBuffer(x) ? x.equals(fused[i] as Buffer) : Object.is((x as { logProb: number }).logProb, (fused[i] as { logProb: number }).logProb) && (x as { token: number }).token === (fused[i] as { token: number }).token).toBe(true));
    fused.forEach((x, i) => {
      const y = passes[i];
      if (Buffer.isBuffer(x)) return expect(x.equals(y as Buffer)).toBe(true);
      const a = x as { token: number; logProb: number }, b = y as { token: number; logProb: number };
      expect(a.token).toBe(b.token);
      expect(Object.is(a.logProb, b.logProb)).toBe(true);
    });
  });
});
