import { describeWithFixtures, fixture, readFixtureJson } from '#testing';
import { disposeAdapter, disposeModel, initBackend, loadLoraAdapter, loadModel, sequenceLogProbs } from '@cope/model';
import { scoreCandidates, selectNegative } from '@cope/negatives';

beforeAll(async () => {
  await initBackend(process.env.COPE_BACKEND ?? 'wasm');
});

describe('selection', () => {
  test('max = lowest implicit reward, min = highest; ties to the first', () => {
    const s = { userScores: [-1, -3, -2, -3], baseScores: [-2, -1, -1, -1] };
    // differences base − user = [-1, 2, 1, 2]
    expect(selectNegative(s, 'max')).toEqual({ differences: [-1, 2, 1, 2], index: 1, difference: 2 });
    expect(selectNegative(s, 'min').index).toBe(0);
    expect(selectNegative({ userScores: [0, 0], baseScores: [1, 1] }, 'max').index).toBe(0);
    expect(() => selectNegative({ userScores: [], baseScores: [] })).toThrow(/no candidates/);
  });
});

describeWithFixtures('scoring on tiny-llama', ['models/tiny-llama/expected.json', 'models/tiny-llama/adapter/adapter_config.json'], () => {
  test('completion mode equals the fixture log-probs (user = adapter, base = bare model)', async () => {
    const model = await loadModel(fixture('models', 'tiny-llama'));
    const adapter = await loadLoraAdapter(model, fixture('models', 'tiny-llama', 'adapter'));
    const e = readFixtureJson('models', 'tiny-llama', 'expected.json');
    const input = { prompt: e.logprob.prompt, completion: e.logprob.completion };
    const s = await scoreCandidates(model, adapter, [input, input]);
    expect(Math.abs(s.userScores[0] - e.adapter.logprob.mean)).toBeLessThan(1e-3);
    expect(Math.abs(s.baseScores[1] - e.logprob.mean)).toBeLessThan(1e-3);

    // cope-compat: −mean CE over every next-token position, labels equal to EOS ignored.
    const eos = e.logprob.completion[2];
    const c = await scoreCandidates(model, adapter, [input], { mode: 'cope-compat', eosTokenId: eos });
    const all = [...e.logprob.prompt, ...e.logprob.completion];
    const [ref] = await sequenceLogProbs(model, [{ prompt: all.slice(0, 1), completion: all.slice(1) }]);
    const kept = ref.perToken.filter((_, t) => all[t + 1] !== eos);
    expect(c.baseScores[0]).toBeCloseTo(kept.reduce((a, b) => a + b, 0) / kept.length, 5);
    expect(kept.length).toBe(all.length - 2);
    disposeAdapter(adapter);
    disposeModel(model);
  });
});
