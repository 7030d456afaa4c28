import { contrastiveDecoder, contrastiveScores, createDecoder, logSoftmax, plainDecoder, repetitionPenalty, sampleIndex, temperature, topK, topP } from '@cope/decoding';

const f = (xs: number[]) => Float64Array.from(xs);

describe('logits processors against hand-computed values', () => {
  test('temperature divides', () => {
    expect(Array.from(temperature(0.5)(f([1, -2]), []))).toEqual([2, -4]);
  });
  test('top-k keeps the k largest (ties at the k-th kept)', () => {
    expect(Array.from(topK(2)(f([1, 3, 2, 3]), []))).toEqual([-Infinity, 3, -Infinity, 3]);
    expect(Array.from(topK(2)(f([1, 4, 2, 3]), []))).toEqual([-Infinity, 4, -Infinity, 3]);
  });
  test('top-p drops the low tail whose cumulative probability is <= 1 - p', () => {
    // probs of log([0.5, 0.3, 0.15, 0.05]): ascending cumsum 0.05, 0.20, 0.50, 1 → with p = 0.75 drop cum <= 0.25.
    const s = f([0.5, 0.3, 0.15, 0.05].map(Math.log));
    expect(Array.from(topP(0.75)(s, [])).map((x) => Number.isFinite(x))).toEqual([true, true, false, false]);
    expect(Array.from(topP(0.01)(s, [])).map((x) => Number.isFinite(x))).toEqual([true, false, false, false]);
  });
  test('repetition penalty follows the HF rule over the history', () => {
    expect(Array.from(repetitionPenalty(2)(f([4, -4, 4]), [0, 1, 1]))).toEqual([2, -8, 4]);
  });
  test('contrastive scores: eps vs inf masking, by hand (float32, so to 5 decimals)', () => {
    // Expert probs [0.6, 0.35, 0.05]: threshold 0.06 masks token 2. q = [0.6, 0.35]/0.95.
    const E = [0.6, 0.35, 0.05].map(Math.log);
    const A = [0.2, 0.5, 0.3].map(Math.log);
    const s = contrastiveScores(E, A, { contrastiveAlpha: 0.5, plausibility: 0.1, masked: 'eps' });
    const q0 = 0.6 / (0.95 + 1e-8);
    expect(s[0]).toBeCloseTo(Math.log(q0 + 1e-8) - 0.5 * Math.log(0.2 + 1e-8), 5);
    expect(s[2]).toBeCloseTo(Math.log(1e-8) - 0.5 * Math.log(0.3 + 1e-8), 5);
    expect(contrastiveScores(E, A, { contrastiveAlpha: 0.5, plausibility: 0.1, masked: 'inf' })[2]).toBe(-Infinity);
  });
  test('sampling picks by cumulative probability and never a removed token', () => {
    const s = f([Math.log(0.25), -Infinity, Math.log(0.75)]);
    expect(sampleIndex(s, 0.2)).toBe(0);
    expect(sampleIndex(s, 0.3)).toBe(2);
    expect(sampleIndex(s, 0.999999)).toBe(2);
    expect(logSoftmax(f([0, 0]))[0]).toBeCloseTo(Math.log(0.5), 12);
  });
});

describe('top-k and top-p on vocabulary-sized rows against the literal Hugging Face rules', () => {
  // HF TopKLogitsWarper: remove scores < the k-th largest (torch.topk). HF TopPLogitsWarper: sort ascending,
  // cumulative softmax, remove where <= 1 - p, keep the last. Written out here with full sorts.
  const hfTopK = (s: Float64Array, k: number) => {
    const kth = Float64Array.from(s).sort()[s.length - k];
    return s.map((x) => (x < kth ? -Infinity : x));
  };
  const hfTopP = (s: Float64Array, p: number) => {
    const m = Math.max(...s);
    const e = Array.from(s, (x) => Math.exp(x - m));
    const z = e.reduce((a, b) => a + b, 0);
    const order = Array.from(s.keys()).sort((a, b) => s[a] - s[b] || a - b);
    const out = Float64Array.from(s);
    let cum = 0;
    order.slice(0, -1).forEach((i) => {
      cum += e[i] / z;
      if (cum <= 1 - p) out[i] = -Infinity;
    });
    return out;
  };
  let seed = 3;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  // Peaked (a trained model), flat (an untrained one), coarse (many ties), and rows with removed tokens.
  const rows: Array<[string, Float64Array]> = [];
  for (const V of [7, 1000, 32000]) {
    rows.push([`peaked ${V}`, Float64Array.from({ length: V }, () => (next() < 0.01 ? 8 : 0) + (next() - 0.5) * 6)]);
    rows.push([`flat ${V}`, Float64Array.from({ length: V }, () => (next() - 0.5) * 0.1)]);
    rows.push([`ties ${V}`, Float64Array.from({ length: V }, () => Math.floor(next() * 4))]);
    rows.push([`removed ${V}`, Float64Array.from({ length: V }, () => (next() < 0.5 ? -Infinity : next() * 10))]);
  }

  test.each(rows)('%s: identical removals for k in 1, 50, 999 and p in 1e-6 .. 0.999', (_, s) => {
    for (const k of [1, 50, 999]) if (k < s.length) expect(topK(k)(s, [])).toEqual(hfTopK(s, k));
    for (const p of [1e-6, 0.1, 0.5, 0.9, 0.95, 0.999]) expect(topP(p)(s, [])).toEqual(hfTopP(s, p));
    expect(topP(0.95)(topK(50)(s, []), [])).toEqual(hfTopP(hfTopK(s, Math.min(50, s.length)), 0.95));
  });

  test.each(rows)('%s: a sampling step draws the token and log-probability of the literal processors and draw, bitwise', (_, row) => {
    // The reference: HF's processors as above, then softmax, the cumulative draw and the log-normaliser written
    // out with Math.exp and Math.log (the strategy shares exponentials between top-p and the draw).
    const logits = Float32Array.from(row);
    const draw = (s: Float64Array, u: number) => {
      let m = -Infinity;
      for (const x of s) if (x > m) m = x;
      const e = Array.from(s, (x) => (x === -Infinity ? 0 : Math.exp(x - m)));
      let z = 0;
      for (let i = 0; i < s.length; i++) if (s[i] !== -Infinity) z += e[i];
      let cum = 0;
      let token = 0;
      for (let i = 0; i < s.length; i++) {
        const p = e[i] !== 0 ? e[i] / z : 0;
        if (p <= 0) continue;
        token = i;
        cum += p;
        if (u < cum) break;
      }
      return { token, logProb: s[token] - (m + Math.log(z)) };
    };
    for (const [t, k, p] of [[1, 0, 0.95], [0.3, 50, 0.95], [1, 0, 1], [0.7, 3, 0.5], [1, 50, 1e-6]]) {
      for (const u of [0, 0.3, 0.77, 0.999999]) {
        const rng = { next: () => u } as unknown as Parameters<ReturnType<typeof plainDecoder>['select']>[2];
        let s = Float64Array.from(logits).map((x) => x / t);
        if (k > 0 && k < s.length) s = hfTopK(s, k);
        if (p < 1) s = hfTopP(s, p);
        expect(plainDecoder({ doSample: true, temperature: t, topK: k, topP: p }).select([logits], [], rng)).toEqual(draw(s, u));
      }
    }
  });

  test('a cumulative sum landing on 1 - p follows the ascending sum, to the last bit', () => {
    // Ascending cumsum 0.05, 0.2 (= 0.05 + 0.15 in float64) against 1 - 0.8 = 0.19999999999999996: kept.
    const s = f([0.5, 0.3, 0.15, 0.05].map(Math.log));
    expect(topP(0.8)(s, [])).toEqual(hfTopP(s, 0.8));
    // Probabilities 0.75 / 0.25, p = 0.75: the ascending sum 0.25 <= 1 - p removes token 1, although the
    // probability above it sums to 0.7499999999999999 < p from the top.
    const t = f([3, 1].map(Math.log));
    expect(Array.from(topP(0.75)(t, []))).toEqual([Math.log(3), -Infinity]);
    expect(topP(0.75)(t, [])).toEqual(hfTopP(t, 0.75));
  });
});

// The kernels compute in float32, as PyTorch does: scores and log-probabilities agree to about 1e-6. An odd
// vocabulary size exercises the kernels' tail path. Spread 20: a few plausible tokens (a trained model);
// spread 1: nearly every token is plausible (an untrained one, or a flat step).
describe.each([20, 1])('greedy steps: token and log-probability against a direct float64 computation (logit spread %i)', (spread) => {
  const V = 2003;
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const E = Float32Array.from({ length: V }, () => (next() - 0.5) * spread);
  const A = Float32Array.from({ length: V }, () => (next() - 0.5) * spread);
  const rng = { next: () => 0 } as unknown as Parameters<ReturnType<typeof contrastiveDecoder>['select']>[2];

  /** log-softmax of one entry, by hand with Math.exp / Math.log. */
  const logSoftmaxAt = (s: ArrayLike<number>, i: number) => {
    let m = -Infinity;
    for (let j = 0; j < s.length; j++) m = Math.max(m, s[j]);
    let z = 0;
    for (let j = 0; j < s.length; j++) z += Math.exp(s[j] - m);
    return s[i] - m - Math.log(z);
  };
  const argmaxOf = (s: ArrayLike<number>) => {
    let b = 0;
    for (let j = 1; j < s.length; j++) if (s[j] > s[b]) b = j;
    return b;
  };

  test('greedy: argmax of the logits, log-softmax within 1e-5', () => {
    const { token, logProb } = plainDecoder().select([E], [], rng);
    expect(token).toBe(argmaxOf(E));
    expect(Math.abs(logProb - logSoftmaxAt(E, token))).toBeLessThan(1e-5);
  });

  test.each([['eps', 0.1], ['eps', 0.5], ['inf', 0.1], ['eps', 0]] as const)('contrastive (%s, λ %s): argmax of the scores, their log-softmax within 1e-5', (masked, lam) => {
    // Direct scores: softmaxes, plausible set, renormalisation and the amateur term, all with Math.exp / Math.log.
    const soft = (x: Float32Array) => {
      const m = Math.max(...x);
      const e = Array.from(x, (v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / z);
    };
    const pE = soft(E);
    const pA = soft(A);
    const top = Math.max(...pE);
    const keep = pE.map((p) => p >= 0.1 * top);
    const kept = pE.reduce((a, p, i) => a + (keep[i] ? p : 0), 0);
    const ref = pE.map((p, i) => {
      if (!keep[i] && masked === 'inf') return -Infinity;
      const logQ = keep[i] ? Math.log(p / (kept + 1e-8) + 1e-8) : Math.log(1e-8);
      return logQ - lam * Math.log(pA[i] + 1e-8);
    });
    const scores = contrastiveScores(E, A, { contrastiveAlpha: lam, plausibility: 0.1, masked });
    let worst = 0;
    ref.forEach((r, i) => (worst = Math.max(worst, r === -Infinity ? (scores[i] === -Infinity ? 0 : 1) : Math.abs(scores[i] - r))));
    expect(worst).toBeLessThan(1e-5);
    const { token, logProb } = contrastiveDecoder({ contrastiveAlpha: lam, masked }).select([E, A], [], rng);
    expect(token).toBe(argmaxOf(ref));
    expect(Math.abs(logProb - logSoftmaxAt(ref, token))).toBeLessThan(1e-5);
  });
});

describe('decoder settings', () => {
  test('values transformers refuses are refused when the decoder is built, naming the decoder, setting and value', () => {
    expect(() => plainDecoder({ doSample: true, topP: 0 })).toThrow('sample decoding: topP: Too small: expected number to be >0 (got 0)');
    expect(() => plainDecoder({ topP: 1.01 })).toThrow(/^greedy decoding: topP: .*<=1 \(got 1.01\)$/);
    expect(() => plainDecoder({ topK: -1 })).toThrow(/greedy decoding: topK: .* \(got -1\)/);
    expect(() => plainDecoder({ doSample: true, temperature: Number.NaN })).toThrow(/sample decoding: temperature: .* \(got NaN\)$/);
    expect(() => contrastiveDecoder({ plausibility: 1.5 })).toThrow(/contrastive decoding: plausibility: .*<=1 \(got 1.5\)/);
    expect(() => contrastiveDecoder({ masked: 'zero' as 'eps' })).toThrow(/contrastive decoding: masked: .*"eps".*"inf".* \(got "zero"\)/);
    expect(() => createDecoder('contrastive', { contrastiveAlpha: 'a' })).toThrow(/contrastive decoding: contrastiveAlpha: .* \(got "a"\)/);
    // The limits themselves are valid.
    expect(() => plainDecoder({ doSample: true, topP: 1, topK: 0, temperature: 1e-3, repetitionPenalty: 1e-3 })).not.toThrow();
    expect(() => contrastiveDecoder({ plausibility: 0, contrastiveAlpha: 0, masked: 'inf' })).not.toThrow();
  });
});
