import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ChatFormatter, getTask, loadTokenizer, queryPrompt, type ChatTemplateChoice, type CopeTokenizer } from '@cope/data';
import { createDecoder, generate } from '@cope/decoding';
import {
  Rng, disposeAdapter, disposeModel, forward, initBackend, loadLoraAdapter, loadModel, mergeLoraAdapter, saveModel, writeFileAtomic,
  type CausalLM, type LoraAdapter,
} from '@cope/model';
import { parseIds, parseNumber, parsePositiveInt, textStreamer, type CliIo } from '../io.js';

interface ModelFlags {
  model: string;
  adapter?: string;
  baseAdapter?: string;
  backend?: string;
  threads?: string;
}

/**
 * The model of `--model`, with `--base-adapter` merged into it (PEFT's merge_and_unload), and `--adapter`
 * loaded on that: CoPe's TAM adapter is the base adapter, an OPPU or DPO adapter (trained on the TAM model)
 * the adapter.
 */
async function withModel<T>(opts: ModelFlags, fn: (m: CausalLM, a: LoraAdapter | null) => Promise<T>): Promise<T> {
  await initBackend(opts.backend, { threads: opts.threads === undefined ? undefined : parsePositiveInt(opts.threads, '--threads') });
  let model = await loadModel(opts.model);
  if (opts.baseAdapter) {
    const bare = model;
    const base = await loadLoraAdapter(bare, opts.baseAdapter).catch((e) => {
      disposeModel(bare);
      throw e;
    });
    model = mergeLoraAdapter(bare, base);
    disposeAdapter(base);
    disposeModel(bare);
  }
  const adapter = opts.adapter ? await loadLoraAdapter(model, opts.adapter).catch((e) => {
    disposeModel(model);
    throw e;
  }) : null;
  try {
    return await fn(model, adapter);
  } finally {
    if (adapter) disposeAdapter(adapter);
    disposeModel(model);
  }
}

/**
 * Contrastive decoding compares two models' logits token by token, so both folders' tokenizers (where both have
 * one) must map the same strings to the same ids: the `model.vocab` and `added_tokens` of their tokenizer.json.
 */
async function checkSameTokenizer(expertDir: string, amateurDir: string): Promise<void> {
  const files = [expertDir, amateurDir].map((d) => path.join(d, 'tokenizer.json'));
  if (!files.every((f) => existsSync(f))) return;
  const [expert, amateur] = await Promise.all(files.map(async (f) => {
    const j = JSON.parse(await fs.readFile(f, 'utf8')) as { model?: { vocab?: unknown }; added_tokens?: Array<{ id: number; content: string }> };
    return { vocab: JSON.stringify(j.model?.vocab ?? null), added: JSON.stringify((j.added_tokens ?? []).map((t) => [t.id, t.content])) };
  }));
  for (const field of ['vocab', 'added'] as const) {
    if (expert[field] !== amateur[field]) {
      const name = field === 'vocab' ? 'model.vocab' : 'added_tokens';
      throw new Error(`${files[1]}: ${name} differs from ${files[0]}'s: the amateur model must share the expert's tokenizer`);
    }
  }
}

/**
 * The text `cope generate` tokenizes: `--prompt` as given, as a user turn in `--chat-template` (with `--system`),
 * or with `--task` the query input prompted as the pipeline's decode stage prompts it (stages.ts).
 */
function promptText(tokenizer: CopeTokenizer, o: { prompt: string; chatTemplate?: string; system?: string; task?: string }): string {
  const chat = () => new ChatFormatter(tokenizer, (o.chatTemplate ?? 'model') as ChatTemplateChoice);
  if (o.task !== undefined) {
    const p = queryPrompt(getTask(o.task), o.prompt);
    return chat().prompt(p.system, p.user);
  }
  return o.chatTemplate !== undefined ? chat().prompt(o.system ?? '', o.prompt) : o.prompt;
}

/** Files of a Hugging Face model folder that travel with its weights (tokenizer and generation settings). */
const COMPANION_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];

const BASE_ADAPTER_HELP = 'PEFT LoRA adapter merged into the model first (CoPe: the TAM adapter, ckpt/TAM/<task>; --adapter then loads on the merged model)';

/** `cope forward`, `cope generate` and `cope merge-adapter`: commands over a Hugging Face model folder. */
export function registerModelCommands(program: Command, io: CliIo): void {
  program
    .command('forward')
    .description('Print the logits of one sequence: {"logits": [[...vocab], ...]} (one row per position)')
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .option('--adapter <dir>', 'PEFT LoRA adapter folder')
    .option('--base-adapter <dir>', BASE_ADAPTER_HELP)
    .requiredOption('--ids <ids>', 'comma-separated token ids, e.g. 5,9,12')
    .option('--backend <name>', 'tensorflow-gpu | tensorflow | wasm | cpu | auto')
    .option('--threads <n>', 'wasm backend threads (default: COPE_THREADS or 1)')
    .action(async (o) => {
      const ids = parseIds(o.ids, '--ids');
      await withModel(o, async (model, adapter) => {
        const { logits } = forward(model, [ids], { adapters: adapter });
        const rows = ((await logits.array()) as number[][][])[0];
        logits.dispose();
        io.out(JSON.stringify({ logits: rows }));
      });
    });

  program
    .command('generate')
    .description('Generate new tokens: prints {"ids": [...]} (and "text" when the prompt was text)')
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .option('--adapter <dir>', 'PEFT LoRA adapter (the expert with --decoding contrastive)')
    .option('--base-adapter <dir>', `${BASE_ADAPTER_HELP}; the amateur of contrastive decoding is the merged model`)
    .option('--amateur-model <dir>', 'with --decoding contrastive: a separate amateur model folder with the same tokenizer (default: the model without --adapter)')
    .option('--prompt-ids <ids>', 'comma-separated prompt token ids')
    .option('--prompt <text>', 'prompt text, tokenized with the model folder\'s tokenizer (BOS as configured)')
    .option('--chat-template <name>', 'wrap --prompt as a user turn in a chat template: model (the tokenizer\'s own, else plain) or a preset (mistral, llama, gemma, qwen2.5, plain)')
    .option('--system <text>', 'system message of the --chat-template turn')
    .option('--task <name>', 'with --prompt: a query input of this task (e.g. "Generate a headline for the following article: …"), prompted as `cope run` decodes it (the task\'s system prompt and test template in --chat-template, default model; "text" trimmed as in its outputs)')
    .option('--max-new-tokens <n>', 'tokens to generate', '32')
    .option('--decoding <name>', 'greedy | sample | contrastive', 'greedy')
    .option('--contrastive-alpha <x>', 'λ, weight of the amateur (CoPe default 0.1)', '0.1')
    .option('--plausibility <x>', 'plausibility threshold (CoPe: 0.1)', '0.1')
    .option('--masked <mode>', 'eps (as published) | inf', 'eps')
    .option('--repetition-penalty <x>', 'Hugging Face repetition penalty', '1')
    .option('--temperature <x>', 'sampling temperature', '1')
    .option('--top-k <k>', 'top-k (0 = off)', '50')
    .option('--top-p <p>', 'top-p', '1')
    .option('--seed <n>', 'random seed', '0')
    .option('--stream', 'write the text to stderr as it is generated (needs the model folder\'s tokenizer)')
    .option('--backend <name>', 'tensorflow-gpu | tensorflow | wasm | cpu | auto')
    .option('--threads <n>', 'wasm backend threads (default: COPE_THREADS or 1)')
    .action(async (o) => {
      if (!o.promptIds && o.prompt === undefined) throw new Error('generate: give --prompt-ids or --prompt');
      if (o.decoding === 'contrastive' && !o.adapter) throw new Error('generate: --decoding contrastive needs --adapter (the expert)');
      if (o.amateurModel !== undefined && o.decoding !== 'contrastive') throw new Error(`generate: --amateur-model is the amateur of contrastive decoding; add --decoding contrastive (got --decoding ${o.decoding})`);
      if (o.amateurModel !== undefined) await checkSameTokenizer(o.model, o.amateurModel);
      for (const flag of ['chatTemplate', 'system', 'task'] as const) {
        if (o[flag] !== undefined && o.prompt === undefined) throw new Error(`generate: --${flag === 'chatTemplate' ? 'chat-template' : flag} shapes the --prompt text; give --prompt (not --prompt-ids)`);
      }
      if (o.task !== undefined && o.system !== undefined) throw new Error('generate: --system with --task: the task brings its own system prompt');
      if (o.system !== undefined && o.chatTemplate === undefined) throw new Error('generate: --system needs --chat-template (e.g. --chat-template model)');
      const hasTokenizer = existsSync(path.join(o.model, 'tokenizer.json'));
      if (o.prompt !== undefined && !hasTokenizer) throw new Error(`${path.join(o.model, 'tokenizer.json')}: file not found (needed for --prompt; use --prompt-ids)`);
      if (o.stream && !hasTokenizer) throw new Error(`${path.join(o.model, 'tokenizer.json')}: file not found (needed for --stream)`);
      const tokenizer = hasTokenizer ? await loadTokenizer(o.model) : null;
      const prompt = o.promptIds ? parseIds(o.promptIds, '--prompt-ids') : tokenizer!.encode(promptText(tokenizer!, o));
      const decoder = createDecoder(o.decoding, {
        contrastiveAlpha: parseNumber(o.contrastiveAlpha, '--contrastive-alpha'),
        plausibility: parseNumber(o.plausibility, '--plausibility'),
        masked: o.masked,
        repetitionPenalty: parseNumber(o.repetitionPenalty, '--repetition-penalty'),
        temperature: parseNumber(o.temperature, '--temperature'),
        topK: parseNumber(o.topK, '--top-k'),
        topP: parseNumber(o.topP, '--top-p'),
      });
      await withModel(o, async (model, adapter) => {
        if (tokenizer && tokenizer.vocabSize > model.config.vocabSize) {
          throw new Error(`${o.model}: tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${model.config.vocabSize}`);
        }
        const amateurModel = o.amateurModel !== undefined ? await loadModel(o.amateurModel) : undefined;
        const stream = o.stream ? textStreamer((ids) => tokenizer!.decode(ids, { skipSpecialTokens: true }), io.progress ?? (() => {})) : undefined;
        const sofar: number[] = [];
        let r;
        try {
          if (amateurModel && amateurModel.config.vocabSize !== model.config.vocabSize) {
            throw new Error(`${path.join(o.amateurModel, 'config.json')}: vocab_size is ${amateurModel.config.vocabSize}, expected ${model.config.vocabSize} (the vocabulary of ${o.model}): the amateur must share the expert's tokenizer`);
          }
          [r] = await generate(model, [prompt], {
            maxNewTokens: parseNumber(o.maxNewTokens, '--max-new-tokens'),
            decoder,
            adapter,
            amateurModel,
            rng: new Rng(parseNumber(o.seed, '--seed')),
            onToken: stream ? (_, token) => {
              sofar.push(token);
              stream.push(sofar);
            } : undefined,
          });
          stream?.end(r.ids);
        } finally {
          if (amateurModel) disposeModel(amateurModel);
        }
        const out: Record<string, unknown> = { ids: r.ids };
        if (o.prompt !== undefined && tokenizer) {
          const text = tokenizer.decode(r.ids, { skipSpecialTokens: true });
          // As the pipeline writes its outputs.
          out.text = o.task !== undefined ? text.trim() : text;
        }
        io.out(JSON.stringify(out));
      });
    });

  program
    .command('merge-adapter')
    .description('Write a Hugging Face model folder with a LoRA adapter merged into the weights (PEFT merge_and_unload)')
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .requiredOption('--adapter <dir>', 'PEFT LoRA adapter folder (e.g. ckpt/TAM/<task>: the TAM model)')
    .requiredOption('--out <dir>', 'output folder: config.json, model.safetensors and the model folder\'s tokenizer and generation files')
    .option('--dtype <type>', 'f32 | bf16', 'f32')
    .option('--backend <name>', 'tensorflow-gpu | tensorflow | wasm | cpu | auto')
    .option('--threads <n>', 'wasm backend threads (default: COPE_THREADS or 1)')
    .action(async (o) => {
      const dtype = String(o.dtype).toLowerCase();
      if (dtype !== 'f32' && dtype !== 'bf16') throw new Error(`--dtype: expected f32 or bf16, got "${o.dtype}"`);
      if (path.resolve(o.out) === path.resolve(o.model)) throw new Error(`--out: ${o.out} is the --model folder; write the merged model elsewhere`);
      await withModel({ model: o.model, baseAdapter: o.adapter, backend: o.backend, threads: o.threads }, async (model) => {
        await fs.mkdir(o.out, { recursive: true });
        await saveModel(model, o.out, { dtype: dtype === 'bf16' ? 'BF16' : 'F32' });
      });
      const copied: string[] = [];
      for (const f of COMPANION_FILES) {
        const from = path.join(o.model, f);
        if (!existsSync(from)) continue;
        await writeFileAtomic(path.join(o.out, f), await fs.readFile(from));
        copied.push(f);
      }
      io.out(JSON.stringify({ out: o.out, dtype, files: ['config.json', 'model.safetensors', ...copied] }));
    });
}


