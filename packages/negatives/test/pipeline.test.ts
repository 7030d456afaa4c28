import { Rng } from '@cope/core';
import { describeWithFixtures, fixture } from '#testing';
import { ChatFormatter, TASKS, TaskCodec, loadTokenizer } from '@cope/data';
import { createLoraAdapter, disposeAdapter, disposeModel, initBackend, loadModel, tf } from '@cope/model';
import { sampleUserNegatives, scoreUserNegatives, type TaskContext } from '@cope/negatives';

beforeAll(async () => {
  await initBackend(process.env.COPE_BACKEND ?? 'wasm');
});

describeWithFixtures('pseudo-negative sampling and scoring with stories260K', ['models/stories260K/tokenizer.json'], () => {
  let ctx: TaskContext;
  const user = {
    user_id: 'u1',
    profile: [
      { id: 'p1', text: 'Lily went to the park', title: 'A happy day' },
      { id: 'p2', text: 'Tom saw a big dog', title: 'The dog' },
    ],
    query: [],
  };
  beforeAll(async () => {
    const dir = fixture('models', 'stories260K');
    const tokenizer = await loadTokenizer(dir);
    ctx = { model: await loadModel(dir), codec: new TaskCodec(tokenizer, new ChatFormatter(tokenizer, 'plain'), TASKS.news_headline) };
  });
  afterAll(() => disposeModel(ctx.model));

  test('N candidates per item, reproducible by seed, different for another seed', async () => {
    const a = await sampleUserNegatives(ctx, user, 0, { n: 3, maxNewTokens: 8, seed: 5 });
    const b = await sampleUserNegatives(ctx, user, 0, { n: 3, maxNewTokens: 8, seed: 5 });
    const c = await sampleUserNegatives(ctx, user, 0, { n: 3, maxNewTokens: 8, seed: 6 });
    expect(a.profile.map((p) => (p.pseudo_negative as string[]).length)).toEqual([3, 3]);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect((a.profile[0].pseudo_negative as string[]).every((s) => s === s.trim())).toBe(true);
  });

  test('scoring writes the compute_scores fields; items without candidates are reported', async () => {
    const adapter = createLoraAdapter(ctx.model, 'u', { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] }, new Rng(2));
    tf.tidy(() => adapter.layers[0].q_proj!.b.assign(tf.randomNormal([4, 64], 0, 0.5, 'float32', 3)));
    const withCands = { ...user, profile: [{ ...user.profile[0], pseudo_negative: ['Lily was happy', 'The park was big'] }, user.profile[1]] };
    const { user: scored, itemsWithoutCandidates } = await scoreUserNegatives(ctx, adapter, withCands);
    expect(itemsWithoutCandidates).toEqual(['p2']);
    const item = scored.profile[0] as any;
    expect(item.OPPU_scores).toHaveLength(2);
    expect(item.score_differences).toEqual(item.base_scores.map((b: number, i: number) => b - item.OPPU_scores[i]));
    const best = item.score_differences[0] >= item.score_differences[1] ? 0 : 1;
    expect(item.negative_response).toBe(['Lily was happy', 'The park was big'][best]);
    expect(item.final_score_difference).toBe(item.score_differences[best]);
    expect(scored.profile[1]).not.toHaveProperty('negative_response');
    const compat = await scoreUserNegatives(ctx, adapter, withCands, { mode: 'cope-compat', selection: 'min' });
    expect((compat.user.profile[0] as any).OPPU_scores).not.toEqual(item.OPPU_scores);
    disposeAdapter(adapter);
  });
});
