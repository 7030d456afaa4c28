import { CHAT_PRESETS, renderChatTemplate } from '@cope/data';

// Exact strings from ../shared/docs/cope-reference.md §2 (CoPe's custom Mistral template as HF renders it).
describe('CoPe chat presets', () => {
  const vars = { bosToken: '<s>', eosToken: '</s>' };
  test('mistral: system + user', () => {
    const out = renderChatTemplate(CHAT_PRESETS.mistral, [
      { role: 'system', content: ' You are a news headline generator. ' },
      { role: 'user', content: 'Generate a headline.\narticle: x\nheadline:' },
    ], vars);
    expect(out).toBe('        [INST] You are a news headline generator. Generate a headline.\narticle: x\nheadline: [/INST]\n');
  });
  test('mistral: add_generation_prompt has no effect', () => {
    const m = [{ role: 'system' as const, content: 'S' }, { role: 'user' as const, content: 'U' }];
    expect(renderChatTemplate(CHAT_PRESETS.mistral, m, { ...vars, addGenerationPrompt: false })).toBe(renderChatTemplate(CHAT_PRESETS.mistral, m, vars));
    expect(renderChatTemplate(CHAT_PRESETS.mistral, m, vars)).toBe('        [INST] S U [/INST]\n');
  });
  test('mistral: assistant-only target', () => {
    expect(renderChatTemplate(CHAT_PRESETS.mistral, [{ role: 'assistant', content: 'Storm Shuts Schools ' }], vars)).toBe('         Storm Shuts Schools </s>\n');
  });
  test('llama appends an assistant header even after an assistant turn (as published)', () => {
    const out = renderChatTemplate(CHAT_PRESETS.llama, [{ role: 'user', content: 'U' }, { role: 'assistant', content: 'A' }], vars);
    expect(out.endsWith('A<|eot_id|>\n<|start_header_id|>assistant<|end_header_id|>')).toBe(true);
  });
  test('plain template', () => {
    expect(renderChatTemplate(CHAT_PRESETS.plain, [{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }], vars)).toBe('S\n\nU\n');
    expect(renderChatTemplate(CHAT_PRESETS.plain, [{ role: 'assistant', content: 'A' }], vars)).toBe('A');
  });
});
