import { describeWithFixtures, readFixtureJson } from '#testing';
import { porterStem } from '@cope/metrics';

describeWithFixtures('Porter stemmer equals NLTK 3.8.1 (default mode)', ['metrics/porter_stems_nltk_3_8_1.json'], () => {
  test('all 722 words', () => {
    const raw = readFixtureJson('metrics', 'porter_stems_nltk_3_8_1.json');
    const pairs: Array<[string, string]> = Array.isArray(raw) ? raw : Object.entries(raw.stems ?? raw);
    expect(pairs.length).toBeGreaterThanOrEqual(700);
    const bad = pairs.filter(([w, s]) => porterStem(w) !== s).map(([w, s]) => `${w}: ${porterStem(w)} != ${s}`);
    expect(bad).toEqual([]);
  });
});
