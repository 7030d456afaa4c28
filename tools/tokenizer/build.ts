/**
 * Trains the embedded BPE tokenizer on the embedded corpus (every field of every task, plus the
 * rendered prompts) and writes `tokenizer.json` and `tokenizer_config.json` into the model folder.
 * Usage: `node tools/dist/tokenizer/build.js [dataDir] [modelDir] [vocabSize]`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TASKS, type TaskName } from '@cope/data';
import { trainByteLevelBpe } from './bpe.js';

export const SPECIAL_TOKENS = ['<pad>', '<s>', '</s>', '<|system|>', '<|user|>', '<|assistant|>'];

/** The embedded model's chat template: role markers as special tokens, EOS after each reply. */
export const TINY_CHAT_TEMPLATE =
  "{% for m in messages %}{% if m['role'] == 'system' %}{{ '<|system|>' + m['content'] }}" +
  "{% elif m['role'] == 'user' %}{{ '<|user|>' + m['content'] }}" +
  "{% else %}{{ '<|assistant|>' + m['content'] + eos_token }}{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

export function corpusTexts(dataDir: string): string[] {
  const texts: string[] = [];
  for (const task of Object.keys(TASKS) as TaskName[]) {
    const spec = TASKS[task];
    texts.push(spec.system);
    for (const file of ['user_others.json', 'user_top_100_history.json']) {
      const users = JSON.parse(readFileSync(path.join(dataDir, task, file), 'utf8')) as Array<{ profile: Array<Record<string, string>>; query: Array<{ input: string; gold?: string }> }>;
      for (const u of users) {
        for (const item of u.profile) {
          texts.push(spec.trainPrompt(item), spec.itemTestPrompt(item), item[spec.targetField]);
        }
        for (const q of u.query) {
          texts.push(q.input, spec.testPrompt(spec.parseQueryInput(q.input)));
          if (q.gold) texts.push(q.gold);
        }
      }
    }
  }
  return texts;
}

export function writeTokenizer(dataDir: string, modelDir: string, vocabSize = 3000): void {
  const tok = trainByteLevelBpe(corpusTexts(dataDir), { vocabSize, specialTokens: SPECIAL_TOKENS, bosToken: '<s>' });
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(path.join(modelDir, 'tokenizer.json'), JSON.stringify(tok) + '\n');
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    add_bos_token: true,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 512,
    chat_template: TINY_CHAT_TEMPLATE,
  };
  writeFileSync(path.join(modelDir, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const dataDir = process.argv[2] ?? path.resolve('data', 'embedded');
  const modelDir = process.argv[3] ?? path.resolve('data', 'models', 'cope-tiny');
  writeTokenizer(dataDir, modelDir, Number(process.argv[4] ?? 3000));
  console.log(`wrote ${modelDir}/tokenizer.json`);
}
