import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ChatFormatter, TASKS, TASK_NAMES, loadTokenizer, readOtherUsers, readTargetUsers } from '@cope/data';
import { generateTask } from '../embedded/generate.js';

const root = path.resolve(__dirname, '..', '..');

describe('the embedded dataset', () => {
  test.each(TASK_NAMES)('%s: the committed files are what the seeded generator writes (byte-identical)', (task) => {
    const files = generateTask(task, 1);
    for (const [name, content] of Object.entries(files)) {
      expect(readFileSync(path.join(root, 'data', 'embedded', task, name), 'utf8')).toBe(content);
    }
    expect(generateTask(task, 2)['user_top_100_history.json']).not.toBe(files['user_top_100_history.json']);
  });

  test.each(TASK_NAMES)('%s: valid CoPe files with the promised sizes and short outputs', async (task) => {
    const dir = path.join(root, 'data', 'embedded', task);
    const others = await readOtherUsers(dir, task);
    const { users, labels } = await readTargetUsers(dir, task);
    expect(others.length).toBeGreaterThanOrEqual(40);
    expect(users.length).toBeGreaterThanOrEqual(8);
    for (const u of users) {
      expect(u.profile.length).toBeGreaterThanOrEqual(30);
      expect(u.query.length).toBeGreaterThanOrEqual(5);
    }
    const limit = TASKS[task].long ? 80 : 16;
    for (const g of labels!.golds) expect(g.output.split(/\s+/).length).toBeLessThan(limit);
  });
});

describe('the embedded BPE tokenizer', () => {
  test('loads with @huggingface/tokenizers, round-trips the corpus, marks BOS/EOS and chat roles as special', async () => {
    const tok = await loadTokenizer(path.join(root, 'data', 'models', 'cope-tiny'));
    expect(tok.vocabSize).toBeGreaterThan(1500);
    expect(tok.vocabSize).toBeLessThanOrEqual(4000);
    const users = JSON.parse(readFileSync(path.join(root, 'data', 'embedded', 'review_writing', 'user_top_100_history.json'), 'utf8'));
    for (const item of users[0].profile.slice(0, 10)) {
      const ids = tok.encode(item.reviewText);
      expect(ids[0]).toBe(tok.bosId);
      expect(tok.decode(ids, { skipSpecialTokens: true })).toBe(item.reviewText);
    }
    const chat = new ChatFormatter(tok);
    const ids = tok.encode(chat.prompt('S', 'U'));
    expect(tok.idsToTokens(ids)).toEqual(expect.arrayContaining(['<|system|>', '<|user|>', '<|assistant|>']));
    expect(tok.encode(chat.target('T', 'S', 'U'), { addSpecialTokens: false }).at(-1)).toBe(tok.eosId);
  });
});
