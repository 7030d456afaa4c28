import { Template } from '@huggingface/jinja';
import type { CopeTokenizer } from './tokenizer.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * Chat templates equivalent to CoPe's published `chat_templates.json`, rendered the way transformers
 * does (Jinja with trim_blocks and lstrip_blocks, which @huggingface/jinja applies too). Written so the
 * rendered strings equal the published templates' byte for byte, including their indentation quirks:
 * - mistral: `"        [INST] <system> <user> [/INST]\n"`, an assistant turn `"         <text> </s>\n"`;
 * - llama: always ends with an assistant header, even after an assistant message (as published);
 * - gemma, qwen2.5: fixed BOS/EOS strings set inside the template, as published.
 * `plain` is for models without a template: system and user separated by a blank line; the example
 * builders end targets with the EOS id, so no EOS text is rendered.
 */
export const CHAT_PRESETS = {
  mistral:
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'].strip() + ' ' %}" +
    "{% else %}{% set loop_messages = messages %}{% set system_message = '' %}{% endif %}" +
    "{% for message in loop_messages %}{% if loop.index0 == 0 %}{% set content = system_message + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}" +
    "{% if message['role'] == 'user' %}{{ '        [INST] ' + content.strip() + ' [/INST]\\n' }}" +
    "{% elif message['role'] == 'assistant' %}{{ '         ' + content.strip() + ' ' + eos_token + '\\n' }}{% endif %}{% endfor %}",
  llama:
    "{{ '\\n<|begin_of_text|>\\n' }}" +
    "{% if messages[0]['role'] == 'system' %}{{ '    <|start_header_id|>system<|end_header_id|>\\n    ' + messages[0]['content'].strip() + '<|eot_id|>\\n' }}{% set loop_messages = messages[1:] %}" +
    "{% else %}{% set loop_messages = messages %}{% endif %}{{ '\\n' }}" +
    "{% for message in loop_messages %}{{ '    <|start_header_id|>' + message['role'] + '<|end_header_id|>\\n    ' + message['content'].strip() + '<|eot_id|>\\n' }}{% endfor %}" +
    "{{ '<|start_header_id|>assistant<|end_header_id|>' }}",
  gemma:
    "{{ '\\n<bos>\\n' }}" +
    "{% if messages[0]['role'] == 'system' %}{{ '  System: ' + messages[0]['content'].strip() + '\\n\\n' }}{% set loop_messages = messages[1:] %}" +
    "{% else %}{% set loop_messages = messages %}{% endif %}{{ '\\n' }}" +
    "{% for message in loop_messages %}{% if message['role'] == 'user' %}{{ '    User: ' + message['content'].strip() + '\\n\\n' }}" +
    "{% elif message['role'] == 'assistant' %}{{ '    Assistant: ' + message['content'].strip() + '<eos>\\n\\n' }}{% endif %}{% endfor %}" +
    "{{ 'Assistant:' }}",
  'qwen2.5':
    "{{ '\\n' }}{% if messages[0]['role'] == 'system' %}{{ '  <|im_start|>system\\n  ' + messages[0]['content'].strip() + '<|im_end|>\\n' }}{% set loop_messages = messages[1:] %}" +
    "{% else %}{% set loop_messages = messages %}{% endif %}{{ '\\n' }}" +
    "{% for message in loop_messages %}{{ '  <|im_start|>' + message['role'] + '\\n  ' + message['content'].strip() + '<|im_end|>\\n' }}{% endfor %}" +
    "{{ '<|im_start|>assistant\\n' }}",
  plain:
    "{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'].strip() + '\\n\\n' }}" +
    "{% elif message['role'] == 'user' %}{{ message['content'].strip() + '\\n' }}" +
    "{% else %}{{ message['content'].strip() }}{% endif %}{% endfor %}",
} as const;

export type ChatPresetName = keyof typeof CHAT_PRESETS;
export const CHAT_PRESET_NAMES = Object.keys(CHAT_PRESETS) as ChatPresetName[];
/** Every chat template choice: `model` first, then the presets. */
export const CHAT_TEMPLATE_CHOICES = ['model', ...CHAT_PRESET_NAMES] as [ChatTemplateChoice, ...ChatTemplateChoice[]];

/** `model`: the tokenizer's own template (falling back to `plain`), or a preset by name. */
export type ChatTemplateChoice = 'model' | ChatPresetName;

const compiled = new Map<string, Template>();

/** Renders `messages` with a Jinja chat template. */
export function renderChatTemplate(
  template: string,
  messages: ChatMessage[],
  vars: { bosToken?: string | null; eosToken?: string | null; addGenerationPrompt?: boolean } = {},
): string {
  let t = compiled.get(template);
  if (!t) compiled.set(template, (t = new Template(template)));
  return t.render({
    messages,
    bos_token: vars.bosToken ?? '',
    eos_token: vars.eosToken ?? '',
    add_generation_prompt: vars.addGenerationPrompt ?? true,
  });
}

/** A chat formatter bound to a tokenizer and a template choice. */
export class ChatFormatter {
  readonly template: string;
  readonly templateName: string;

  constructor(private readonly tokenizer: CopeTokenizer, choice: ChatTemplateChoice = 'model') {
    if (choice === 'model') {
      this.template = tokenizer.chatTemplate ?? CHAT_PRESETS.plain;
      this.templateName = tokenizer.chatTemplate ? 'model' : 'plain';
    } else {
      if (!(choice in CHAT_PRESETS)) throw new Error(`Unknown chat template "${choice}": expected model or one of ${CHAT_PRESET_NAMES.join(', ')}`);
      this.template = CHAT_PRESETS[choice];
      this.templateName = choice;
    }
  }

  render(messages: ChatMessage[], addGenerationPrompt = true): string {
    return renderChatTemplate(this.template, messages, { bosToken: this.tokenizer.bosToken, eosToken: this.tokenizer.eosToken, addGenerationPrompt });
  }

  /** The prompt text for a system + user turn. */
  prompt(system: string, user: string): string {
    const messages: ChatMessage[] = system ? [{ role: 'system', content: system }, { role: 'user', content: user }] : [{ role: 'user', content: user }];
    return this.render(messages, true);
  }

  /**
   * The text of an assistant reply as it follows {@link prompt}: the full conversation rendered minus the
   * rendered prompt, when the prompt is a prefix of it (true for CoPe's mistral preset, where this equals
   * the published assistant-only rendering `"         <text> </s>\n"`, and for most model templates);
   * otherwise the assistant-only message, as CoPe renders targets.
   */
  target(text: string, system = '', user = ''): string {
    if (user) {
      const prompt = this.prompt(system, user);
      const messages: ChatMessage[] = [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: user }, { role: 'assistant', content: text }];
      const full = this.render(messages, false);
      if (full.startsWith(prompt) && full.length > prompt.length) return full.slice(prompt.length);
    }
    return this.render([{ role: 'assistant', content: text }], false);
  }
}
