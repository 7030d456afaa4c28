import { describeWithFixtures, readFixtureJson } from '#testing';
import { rouge, rougeTokenize } from '@cope/metrics';

describeWithFixtures('ROUGE equals rouge_score 0.1.2 on the reference pairs', ['metrics/pairs.json'], () => {
  const pairs = () => readFixtureJson('metrics', 'pairs.json').pairs as any[];
  const parse = (s: any) => (typeof s === 'string' ? JSON.parse(s) : s);

  test('every F-measure within 1e-6 (no stemmer, as LaMP)', () => {
    const bad: string[] = [];
    for (const p of pairs()) {
      const s = rouge(p.reference.trim(), p.prediction.trim());
      for (const k of ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'] as const) {
        if (Math.abs(s[k].fmeasure - Number(p[k])) > 1e-6) bad.push(`${p.id} ${k}: ${s[k].fmeasure} vs ${p[k]}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test('precision and recall within 1e-6, tokens identical', () => {
    const bad: string[] = [];
    for (const p of pairs()) {
      const s = rouge(p.reference.trim(), p.prediction.trim());
      const prf = parse(p.rouge_prf);
      for (const k of ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'] as const) {
        if (Math.abs(s[k].precision - prf[k].precision) > 1e-6 || Math.abs(s[k].recall - prf[k].recall) > 1e-6) bad.push(`${p.id} ${k}`);
      }
      const toks = parse(p.rouge_tokens);
      if (JSON.stringify(rougeTokenize(p.prediction.trim())) !== JSON.stringify(toks.prediction)) bad.push(`${p.id} tokens`);
    }
    expect(bad).toEqual([]);
  });
});
