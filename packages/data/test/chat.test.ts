import { describeWithFixtures, fixture } from '#testing';
import { CHAT_PRESETS, ChatFormatter, loadTokenizer, renderChatTemplate } from '@cope/data';

// Exact strings of CoPe's custom Mistral template (`prompt/chat_templates.json`) as Hugging Face renders it.
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


describeWithFixtures('a model\'s own chat template (Qwen2.5 tokenizer_config.json)', ['tokenizers/qwen2.5/tokenizer_config.json'], () => {
  test('renders the ChatML format Qwen documents, with its default system prompt when none is given', async () => {
    const chat = new ChatFormatter(await loadTokenizer(fixture('tokenizers', 'qwen2.5')), 'model');
    expect(chat.templateName).toBe('model');
    expect(chat.prompt('S', 'U')).toBe('<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n');
    expect(chat.prompt('', 'Hi')).toBe('<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    // The training target is what follows the prompt in the full conversation.
    expect(chat.target('T', 'S', 'U')).toBe('T<|im_end|>\n');
  });
});
