import { contrastiveScores, logSoftmax, repetitionPenalty, sampleIndex, temperature, topK, topP } from '@cope/decoding';

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
  test('contrastive scores: eps vs inf masking, by hand', () => {
    // Expert probs [0.6, 0.35, 0.05]: threshold 0.06 masks token 2. q = [0.6, 0.35]/0.95.
    const E = [0.6, 0.35, 0.05].map(Math.log);
    const A = [0.2, 0.5, 0.3].map(Math.log);
    const s = contrastiveScores(E, A, { contrastiveAlpha: 0.5, plausibility: 0.1, masked: 'eps' });
    const q0 = 0.6 / (0.95 + 1e-8);
    expect(s[0]).toBeCloseTo(Math.log(q0 + 1e-8) - 0.5 * Math.log(0.2 + 1e-8), 10);
    expect(s[2]).toBeCloseTo(Math.log(1e-8) - 0.5 * Math.log(0.3 + 1e-8), 10);
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
