import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { TASKS, decodeUtf8, extractOutput, pythonStrip, firstKWords, getTask, readTargetUsers, validateLabels, validateUsers } from '@cope/data';
import { tempDir } from '#testing/temp';

const user = () => ({
  user_id: 'u17',
  profile: [{ id: 'p1', text: 'The city council voted', title: 'Council Backs New Park' }],
  query: [{ id: 'q9', input: 'Generate a headline for the following article: Storm closes schools', gold: 'Storm Shuts Schools' }],
});

describe('data file validation names the file and the exact element', () => {
  const f = 'user_top_100_history.json';
  const cases: Array<[string, (u: any) => void, RegExp]> = [
    ['non-string target', (u) => { u[1].profile[0].title = 5; }, /user_top_100_history.json: \[1\].profile\[0\].title: expected a string/],
    ['missing input field', (u) => { delete u[0].profile[0].text; }, /\[0\].profile\[0\].text: expected a string/],
    ['missing profile id', (u) => { delete u[0].profile[0].id; }, /\[0\].profile\[0\].id: /],
    ['query without input', (u) => { delete u[1].query[0].input; }, /\[1\].query\[0\].input: expected a string/],
    ['profile not a list', (u) => { u[0].profile = {}; }, /\[0\].profile: expected an array/],
    ['no user id or name', (u) => { delete u[0].user_id; }, /\[0\]: expected a user_id or user_name/],
    ['query without id', (u) => { delete u[1].query[0].id; }, /user_top_100_history.json: \[1\].query\[0\].id: expected a string or a number \(task news_headline, user_id "u18"\)/],
    ['profile item without text', (u) => { delete u[1].profile[0].text; }, /\[1\].profile\[0\].text: expected a string \(task news_headline, user_id "u18"\)/],
  ];
  test.each(cases)('%s', (_n, mutate, pattern) => {
    const users = [user(), { ...user(), user_id: 'u18' }];
    mutate(users);
    expect(() => validateUsers(users, TASKS.news_headline, f)).toThrow(pattern);
  });

  test('user_name is accepted in place of user_id; numeric ids become strings', () => {
    const u: any = user();
    delete u.user_id;
    u.user_name = 'alice';
    u.profile[0].id = 7;
    expect(validateUsers([u], TASKS.news_headline, f)[0].profile[0].id).toBe('7');
  });

  test('label files: wrong task and duplicate ids', () => {
    expect(() => validateLabels({ task: 'LaMP_5', golds: [] }, 'labels.json', 'LaMP_4')).toThrow(/labels.json: task: expected "LaMP_4", got "LaMP_5"/);
    expect(() => validateLabels({ task: 'LaMP_4', golds: [{ id: 'a', output: 'x' }, { id: 'a', output: 'y' }] }, 'labels.json')).toThrow(/golds\[1\].id: duplicate id "a"/);
    expect(() => validateLabels({ task: 'LaMP_4', golds: [{ id: 'a' }] }, 'labels.json')).toThrow(/golds\[0\].output: expected a string/);
  });

  test('target users: an empty profile is refused at load, naming the full path, task and user', async () => {
    const dir = tempDir('cope-data-');
    const file = path.join(dir, 'user_top_100_history.json');
    writeFileSync(file, JSON.stringify([user(), { ...user(), user_id: 'u18', profile: [] }]));
    await expect(readTargetUsers(dir, 'news_headline')).rejects.toThrow(`${file}: [1].profile: empty profile: a target user needs at least one profile item to train an OPPU adapter on (task news_headline, user_id "u18")`);
  });

  test('bytes that are not UTF-8 are refused with their offset; a real U+FFFD is text', async () => {
    const dir = tempDir('cope-data-');
    const file = path.join(dir, 'user_top_100_history.json');
    const good = Buffer.from(JSON.stringify([{ ...user(), user_id: 'ü\uFFFD' }]));
    const at = good.indexOf('The city');
    writeFileSync(file, Buffer.concat([good.subarray(0, at), Buffer.from([0xc3, 0x28]), good.subarray(at)]));
    await expect(readTargetUsers(dir, 'news_headline')).rejects.toThrow(`${file}: not valid UTF-8 at byte offset ${at} (byte 0xc3)`);
    writeFileSync(file, good);
    expect((await readTargetUsers(dir, 'news_headline')).users[0].user_id).toBe('ü\uFFFD');
    expect(() => decodeUtf8(Buffer.from([0x61, 0xe2, 0x82]), 'f.json')).toThrow('f.json: not valid UTF-8 at byte offset 1 (byte 0xe2)');
  });

  test('query ids must match label ids, listing the difference', async () => {
    const dir = tempDir('cope-data-');
    writeFileSync(path.join(dir, 'user_top_100_history.json'), JSON.stringify([user()]));
    writeFileSync(path.join(dir, 'user_top_100_history_label.json'), JSON.stringify({ task: 'LaMP_4', golds: [{ id: 'q10', output: 'x' }] }));
    await expect(readTargetUsers(dir, 'news_headline')).rejects.toThrow(/query ids without a label: q9; label ids without a query: q10/);
  });
});

describe('task registry', () => {
  test('prompts follow CoPe prompt.json', () => {
    expect(TASKS.news_headline.testPrompt({ text: 'A' })).toBe('Generate a headline for the following article.\narticle: A\nheadline:');
    expect(TASKS.topic_writing.trainPrompt({ summary: 'S', content: '' })).toBe('Generate the content for a reddit post S.\ncontent: ');
    expect(TASKS.review_writing.parseQueryInput('Generate the review text written by a reviewer who has a given an overall rating of "5.0" for a product with description "USB cable". The summary of the review text is "Works great"')).toEqual({ overall: '5.0', description: 'USB cable', summary: 'Works great' });
    expect(TASKS.review_writing.parseQueryInput('rating of "5.0" for a product with description "a "b" c". The summary of the review text is "ok"').description).toBe('a ');
    expect(getTask('LongLaMP_2').name).toBe('abstract_generation');
    expect(() => getTask('movie_tagging')).toThrow(/Unknown task "movie_tagging": expected one of news_headline/);
    expect([TASKS.news_headline.maxNewTokens, TASKS.topic_writing.maxNewTokens]).toEqual([100, 600]);
  });
  test('get_output keeps the text after the last marker, then Python strip(), strip(\'"\'), strip("\'")', () => {
    expect(extractOutput(TASKS.news_headline, 'headline: x headline:  "Storm Hits" ')).toBe('Storm Hits');
    // Two strips, not one pass over mixed quotes: '"x"' keeps its inner double quotes.
    expect(extractOutput(TASKS.news_headline, `headline: '"Storm"'`)).toBe('"Storm"');
    expect(extractOutput(TASKS.news_headline, `headline: "'Storm'"`)).toBe('Storm');
    expect(extractOutput(TASKS.news_headline, `headline: "Storm" '`)).toBe('Storm" ');
    // Python's whitespace, not JavaScript's: \x1c is stripped, \uFEFF is kept.
    expect(pythonStrip('\x1c a \x85')).toBe('a');
    expect(pythonStrip('\uFEFFa')).toBe('\uFEFFa');
  });
  test('768-word truncation collapses whitespace', () => {
    expect(firstKWords('a  b\nc d', 3)).toBe('a b c');
  });
});
