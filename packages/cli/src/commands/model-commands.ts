import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadTokenizer } from '@cope/data';
import { createDecoder, generate } from '@cope/decoding';
import { Rng, disposeAdapter, disposeModel, forward, initBackend, loadLoraAdapter, loadModel } from '@cope/model';
import { parseIds, parseNumber, parsePositiveInt, type CliIo } from '../io.js';

async function withModel<T>(opts: { model: string; adapter?: string; backend?: string; threads?: string }, fn: (m: Awaited<ReturnType<typeof loadModel>>, a: Awaited<ReturnType<typeof loadLoraAdapter>> | null) => Promise<T>): Promise<T> {
  await initBackend(opts.backend, { threads: opts.threads === undefined ? undefined : parsePositiveInt(opts.threads, '--threads') });
  const model = await loadModel(opts.model);
  const adapter = opts.adapter ? await loadLoraAdapter(model, opts.adapter) : null;
  try {
    return await fn(model, adapter);
  } finally {
    if (adapter) disposeAdapter(adapter);
    disposeModel(model);
  }
}

/** `cope forward` and `cope generate`: debug commands over a Hugging Face model folder. */
export function registerModelCommands(program: Command, io: CliIo): void {
  program
    .command('forward')
    .description('Print the logits of one sequence: {"logits": [[...vocab], ...]} (one row per position)')
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .option('--adapter <dir>', 'PEFT LoRA adapter folder')
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
    .option('--prompt-ids <ids>', 'comma-separated prompt token ids')
    .option('--prompt <text>', 'prompt text, tokenized with the model folder\'s tokenizer (BOS as configured)')
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
    .option('--backend <name>', 'tensorflow-gpu | tensorflow | wasm | cpu | auto')
    .option('--threads <n>', 'wasm backend threads (default: COPE_THREADS or 1)')
    .action(async (o) => {
      if (!o.promptIds && o.prompt === undefined) throw new Error('generate: give --prompt-ids or --prompt');
      if (o.decoding === 'contrastive' && !o.adapter) throw new Error('generate: --decoding contrastive needs --adapter (the expert)');
      const hasTokenizer = existsSync(path.join(o.model, 'tokenizer.json'));
      if (o.prompt !== undefined && !hasTokenizer) throw new Error(`${path.join(o.model, 'tokenizer.json')}: file not found (needed for --prompt; use --prompt-ids)`);
      const tokenizer = hasTokenizer ? await loadTokenizer(o.model) : null;
      const prompt = o.promptIds ? parseIds(o.promptIds, '--prompt-ids') : tokenizer!.encode(o.prompt);
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
        const [r] = await generate(model, [prompt], {
          maxNewTokens: parseNumber(o.maxNewTokens, '--max-new-tokens'),
          decoder,
          adapter,
          rng: new Rng(parseNumber(o.seed, '--seed')),
        });
        const out: Record<string, unknown> = { ids: r.ids };
        if (o.prompt !== undefined && tokenizer) out.text = tokenizer.decode(r.ids, { skipSpecialTokens: true });
        io.out(JSON.stringify(out));
      });
    });
}


