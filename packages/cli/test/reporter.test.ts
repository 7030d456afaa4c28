import { Writable } from 'node:stream';
import { terminalReporter } from '../src/reporter.js';

/** A terminal that keeps what is written to it. */
function screen(): Writable & { text: string; isTTY: boolean; columns: number } {
  const s = new Writable({ write(chunk, _enc, done) { s.text += String(chunk); done(); } }) as Writable & { text: string; isTTY: boolean; columns: number };
  s.text = '';
  s.isTTY = true;
  s.columns = 120;
  return s;
}

describe('terminal progress', () => {
  test('one bar per task (users done / total) and one per running training job; each goes when it is done', () => {
    const out = screen();
    const r = terminalReporter({ stream: out });
    const stages = ['sft', 'negatives', 'score', 'dpo', 'decode'];
    r.event({ stage: 'run', task: 'news_headline', kind: 'start', users: 2, stages });
    r.event({ stage: 'tam', task: 'news_headline', kind: 'step', step: 1, total: 4, loss: 2 });
    expect(r.bars()).toEqual(['news_headline users', 'news_headline tam']);
    r.event({ stage: 'tam', task: 'news_headline', kind: 'done' });
    expect(r.bars()).toEqual(['news_headline users']);
    for (const user of [0, 1]) {
      for (const stage of stages) {
        for (let step = 1; step <= 3; step++) if (stage === 'sft' || stage === 'dpo') r.event({ stage, task: 'news_headline', user, kind: 'step', step, total: 3, loss: 1 });
        if (stage === 'sft') expect(r.bars()).toEqual(['news_headline users', `news_headline sft user_${user}`]);
        r.event({ stage, task: 'news_headline', user, kind: stage === 'negatives' ? 'skip' : 'done' });
        if (stage === 'negatives') r.event({ stage, task: 'news_headline', user, kind: 'done' });
      }
      if (user === 0) expect(r.bars()).toEqual(['news_headline users']);
    }
    expect(r.bars()).toEqual([]);
    r.stop();
    expect(out.text).toContain('news_headline tam done');
    expect(out.text).toContain('news_headline: 2 users done');
    // No finished user's stage is logged line by line above the bars.
    expect(out.text).not.toMatch(/user_0 done/);
  });
});
