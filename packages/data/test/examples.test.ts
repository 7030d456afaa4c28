import { describeWithFixtures, fixture } from '#testing';
import { ChatFormatter, TASKS, encodeDpoTriple, encodeTurn, loadTokenizer, oppuTurns, outputText, padBatch, tamTurns } from '@cope/data';

describeWithFixtures('example building', ['tokenizers/llama2/tokenizer.json'], () => {
  test('SFT example: BOS + templated prompt, target masked in, ends with </s>', async () => {
    const tok = await loadTokenizer(fixture('tokenizers', 'llama2'));
    const chat = new ChatFormatter(tok, 'mistral');
    const ex = encodeTurn(tok, chat, { system: 'You are a news headline generator.', user: 'Generate a headline.', target: 'Storm Shuts Schools' });
    expect(ex.ids[0]).toBe(tok.bosId);
    expect(ex.labelMask.slice(0, ex.promptLength).every((m) => m === 0)).toBe(true);
    expect(ex.labelMask.slice(ex.promptLength).every((m) => m === 1)).toBe(true);
    const target = ex.ids.slice(ex.promptLength);
    expect(tok.decode(target)).toBe('         Storm Shuts Schools</s>\n');
    expect(target).toContain(tok.eosId);
    expect(tok.decode(ex.ids.slice(1, ex.promptLength))).toBe(chat.prompt('You are a news headline generator.', 'Generate a headline.'));
    const cut = encodeTurn(tok, chat, { system: 'S', user: 'word '.repeat(50), target: 'T' }, 10);
    expect(cut.truncated).toBe(true);
    expect(() => encodeTurn(tok, chat, { system: 'S', user: 'U', target: '  ' })).toThrow(/empty target for the prompt "U"/);
    expect(cut.promptLength).toBe(10);
  });

  test('examples longer than the model context are cut to it, the prompt first (down to half), then the target', async () => {
    const tok = await loadTokenizer(fixture('tokenizers', 'llama2'));
    const chat = new ChatFormatter(tok, 'plain');
    const long = { system: 'S', user: 'word '.repeat(2000), target: 'a headline '.repeat(5) };
    const full = encodeTurn(tok, chat, long);
    expect(full.truncated).toBe(false);
    const fit = encodeTurn(tok, chat, long, 2048, 64);
    expect(fit.truncated).toBe(true);
    expect(fit.ids).toHaveLength(64);
    expect(fit.ids.slice(fit.promptLength)).toEqual(full.ids.slice(full.promptLength));
    expect(fit.ids.slice(0, fit.promptLength)).toEqual(full.ids.slice(0, fit.promptLength));
    const longTarget = encodeTurn(tok, chat, { ...long, target: 'word '.repeat(200) }, 2048, 64);
    expect([longTarget.promptLength, longTarget.ids.length]).toEqual([32, 64]);
    expect(encodeTurn(tok, chat, { system: 'S', user: 'U', target: 'T' }, 2048, 64).truncated).toBe(false);
    const t = encodeDpoTriple(tok, chat, { ...long, target: 'good' }, 'bad '.repeat(100), 2048, 64);
    expect([t.prompt.length + t.chosen.length <= 64, t.prompt.length + t.rejected.length]).toEqual([true, 64]);
  });

  test('output texts: get_output over prompt and answer for greedy methods, strip for contrastive, or trim', async () => {
    const tok = await loadTokenizer(fixture('tokenizers', 'llama2'));
    const prompt = tok.encode('Generate a headline for the following article.\narticle: A storm\nheadline:');
    const answer = tok.encode(' "Storm Shuts Schools" headline: \'Schools Closed\' ', { addSpecialTokens: false });
    const task = TASKS.news_headline;
    expect(outputText(tok, task, prompt, answer, false, 'reference')).toBe('Schools Closed');
    expect(outputText(tok, task, prompt, answer, true, 'reference')).toBe('"Storm Shuts Schools" headline: \'Schools Closed\'');
    expect(outputText(tok, task, prompt, answer, false, 'trim')).toBe('"Storm Shuts Schools" headline: \'Schools Closed\'');
    // Without a marker in the answer, the prompt's last one leads to the answer itself.
    expect(outputText(tok, task, prompt, tok.encode(' "Storm Shuts Schools"', { addSpecialTokens: false }), false, 'reference')).toBe('Storm Shuts Schools');
  });

  test('DPO triples end with exactly one EOS appended after the template', async () => {
    const tok = await loadTokenizer(fixture('tokenizers', 'llama2'));
    const chat = new ChatFormatter(tok, 'plain');
    const t = encodeDpoTriple(tok, chat, { system: 'S', user: 'U', target: 'good' }, 'bad');
    expect(t.chosen[t.chosen.length - 1]).toBe(tok.eosId);
    expect(t.chosen.filter((x) => x === tok.eosId).length).toBe(1);
    expect(tok.decode(t.rejected, { skipSpecialTokens: true })).toBe('bad');
  });

  test('TAM uses raw query inputs; OPPU uses OPPU_input over 768-word fields', () => {
    const long = Array.from({ length: 800 }, (_, i) => `w${i}`).join('\n');
    const user = { user_id: 'u', profile: [{ id: 'p', text: long, title: 'T' }], query: [{ id: 'q', input: 'Generate a headline for the following article: A', gold: 'G' }] };
    expect(tamTurns(TASKS.news_headline, [user])[0]).toEqual({ system: 'You are a news headline generator.', user: 'Generate a headline for the following article: A', target: 'G' });
    const o = oppuTurns(TASKS.news_headline, user)[0];
    expect(o.user.split(' ').length).toBe(768 + 7);
    expect(o.target).toBe('T');
  });

  test('padding left and right', () => {
    const b = padBatch([{ ids: [1, 2, 3], labelMask: [0, 1, 1] }, { ids: [4] }], 0, 'left');
    expect(b.ids).toEqual([[1, 2, 3], [0, 0, 4]]);
    expect(b.attentionMask).toEqual([[1, 1, 1], [0, 0, 1]]);
    expect(padBatch([{ ids: [4] }], 9, 'right', 4).ids).toEqual([[4, 9, 9, 9]]);
  });
});
