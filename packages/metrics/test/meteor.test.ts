import { describeWithFixtures, readFixtureJson } from '#testing';
import { meteor, porterStem, wordTokenize } from '@cope/metrics';

/** Pairs where this port is known to differ from NLTK, with the reason (see README "METEOR deviations"). */
const KNOWN_DEVIATIONS: Record<string, string> = {};

describeWithFixtures('METEOR equals NLTK 3.8.1 (as HF evaluate calls it)', ['metrics/pairs.json'], () => {
  const pairs = () => readFixtureJson('metrics', 'pairs.json').pairs as any[];
  const parse = (s: any) => (typeof s === 'string' ? JSON.parse(s) : s);

  test('word_tokenize gives NLTK\'s tokens', () => {
    const bad: string[] = [];
    for (const p of pairs()) {
      const toks = parse(p.meteor_tokens);
      for (const side of ['prediction', 'reference'] as const) {
        const got = wordTokenize(p[side].trim());
        if (JSON.stringify(got) !== JSON.stringify(toks[side])) bad.push(`${p.id} ${side}: ${JSON.stringify(got)} vs ${JSON.stringify(toks[side])}`);
      }
    }
    expect(bad.filter((b) => !KNOWN_DEVIATIONS[b.split(' ')[0]])).toEqual([]);
  });

  test('METEOR within 1e-4 on at least 95% of the pairs; the rest are the listed deviations', () => {
    const all = pairs();
    const bad: string[] = [];
    for (const p of all) {
      const got = meteor(p.reference.trim(), p.prediction.trim());
      if (Math.abs(got - Number(p.meteor)) > 1e-4) bad.push(`${p.id}: ${got} vs ${p.meteor}`);
    }
    expect(bad.map((b) => b.split(':')[0]).filter((id) => !KNOWN_DEVIATIONS[id])).toEqual([]);
    expect(bad.length / all.length).toBeLessThanOrEqual(0.05);
  });

  test('the stem stage uses NLTK\'s Porter stems', () => {
    expect(['running', 'studies', 'generously'].map(porterStem)).toEqual(['run', 'studi', 'gener']);
  });
});
