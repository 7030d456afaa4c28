import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeWithFixtures, fixture, readFixtureJson } from '#testing';
import { loadTokenizer } from '@cope/data';
import { tokenizerFromJson } from '../src/browser.js';

for (const name of ['gpt2', 'llama2', 'qwen2.5']) {
  describeWithFixtures(`${name} tokenizer matches Python transformers`, [`tokenizers/${name}/expected.json`, 'tokenizers/inputs.json'], () => {
    const expected = () => readFixtureJson('tokenizers', name, 'expected.json');
    const inputs = () => new Map<string, string>(readFixtureJson('tokenizers', 'inputs.json').map((i: any) => [i.id, i.text]));

    test('all inputs encode to the expected ids and decode to the expected text', async () => {
      const tok = await loadTokenizer(fixture('tokenizers', name));
      const texts = inputs();
      const entries = expected().entries;
      expect(entries.length).toBe(83);
      const failures: string[] = [];
      for (const e of entries) {
        const text = texts.get(e.id)!;
        const ids = tok.encode(text);
        if (JSON.stringify(ids) !== JSON.stringify(e.input_ids)) failures.push(`${e.id}: encode`);
        if (tok.decode(e.input_ids) !== e.decoded_with_special) failures.push(`${e.id}: decode`);
        if (tok.decode(e.input_ids, { skipSpecialTokens: true }) !== e.decoded_skip_special) failures.push(`${e.id}: decode skip`);
      }
      expect(failures).toEqual([]);
    });

    test('from parsed JSON (the browser entry: no files) the same ids and texts', () => {
      const config = existsSync(path.join(fixture('tokenizers', name), 'tokenizer_config.json')) ? readFixtureJson('tokenizers', name, 'tokenizer_config.json') : {};
      const tok = tokenizerFromJson(readFixtureJson('tokenizers', name, 'tokenizer.json'), config, name);
      const texts = inputs();
      const failures = expected().entries.filter((e: any) => JSON.stringify(tok.encode(texts.get(e.id)!)) !== JSON.stringify(e.input_ids) || tok.decode(e.input_ids) !== e.decoded_with_special);
      expect(failures.map((e: any) => e.id)).toEqual([]);
      expect(() => tokenizerFromJson('not an object', {}, 'upload')).toThrow(/upload\/tokenizer.json: expected a JSON object/);
      expect(() => tokenizerFromJson({}, [], 'upload')).toThrow(/upload\/tokenizer_config.json: expected a JSON object/);
    });
  });
}

describeWithFixtures('stories260K tokenizer', ['models/stories260K/tokenizer.json', 'models/stories260K/parity_reference.json'], () => {
  test('encodes the parity prompts to the reference ids (BOS prepended)', async () => {
    const tok = await loadTokenizer(fixture('models', 'stories260K'));
    for (const c of readFixtureJson('models', 'stories260K', 'parity_reference.json').cases) {
      expect(tok.encode(c.prompt)).toEqual(c.input_ids);
    }
    expect(tok.bosId).toBe(1);
    expect(tok.eosId).toBe(2);
  });

  test('no ids decode to the empty text (the Rust tokenizer refuses an empty list)', async () => {
    const tok = await loadTokenizer(fixture('models', 'stories260K'));
    expect(tok.decode([])).toBe('');
    expect(tok.decode([], { skipSpecialTokens: true })).toBe('');
  });
});
