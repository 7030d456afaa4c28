import { Rng } from '@cope/core';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { CHAT_TEMPLATE_CHOICES, ChatFormatter, OUTPUT_TEXT_MODES, TaskCodec, getTask, loadTokenizer, outputText, type ChatTemplateChoice, type CopeTokenizer } from '@cope/data';
import { contrastiveSettingsSchema, createDecoder, generate } from '@cope/decoding';
import { disposeModel, loadModel, stopTokenIds } from '@cope/model';
import { parseIds, parseNumber, parsePositiveInt, textStreamer, type CliIo } from '../io.js';
import { schemaOption } from '../schema-options.js';
import { BACKEND_HELP, THREADS_HELP, BASE_ADAPTER_HELP, WEIGHTS_HELP, weightsFlag, withModel } from './model-commands.js';

/**
 * Contrastive decoding compares two models' logits token by token, so both folders' tokenizers (where both have
 * one) must map the same strings to the same ids: the `model.vocab` and `added_tokens` of their tokenizer.json.
 */
async function checkSameTokenizer(expertDir: string, amateurDir: string): Promise<void> {
  const files = [expertDir, amateurDir].map((d) => path.join(d, 'tokenizer.json'));
  if (!files.every((f) => existsSync(f))) return;
  const bytes = await Promise.all(files.map((f) => fs.readFile(f)));
  // The usual case, one tokenizer copied to both folders, needs no parsing (a 0.5B model's file is 7 MB).
  if (bytes[0].equals(bytes[1])) return;
  const [expert, amateur] = bytes.map((b) => {
    const j = JSON.parse(b.toString('utf8')) as { model?: { vocab?: unknown }; added_tokens?: Array<{ id: number; content: string }> };
    return { vocab: JSON.stringify(j.model?.vocab ?? null), added: JSON.stringify((j.added_tokens ?? []).map((t) => [t.id, t.content])) };
  });
  for (const field of ['vocab', 'added'] as const) {
    if (expert[field] !== amateur[field]) {
      const name = field === 'vocab' ? 'model.vocab' : 'added_tokens';
      throw new Error(`${files[1]}: ${name} differs from ${files[0]}'s: the amateur model must share the expert's tokenizer`);
    }
  }
}

/**
 * The text `cope generate` tokenizes: `--prompt` as given, as a user turn in `--chat-template` (with `--system`),
 * or with `--task` the query input prompted as the pipeline's decode stage prompts it (both ask TaskCodec).
 */
function promptText(tokenizer: CopeTokenizer, o: { prompt: string; chatTemplate?: string; system?: string; task?: string }): string {
  const chat = () => new ChatFormatter(tokenizer, (o.chatTemplate ?? 'model') as ChatTemplateChoice);
  if (o.task !== undefined) return new TaskCodec(tokenizer, chat(), getTask(o.task)).queryText(o.prompt);
  return o.chatTemplate !== undefined ? chat().prompt(o.system ?? '', o.prompt) : o.prompt;
}

/** One prompt to decode: its ids, whether it came as text (the output then has "text"), and the caller's id. */
interface PromptJob {
  ids: number[];
  fromText: boolean;
  id?: unknown;
}

type PromptFlags = { prompt?: string; promptIds?: string; promptsFile?: string; chatTemplate?: string; system?: string; task?: string };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The prompts of `--prompt`, `--prompt-ids` or `--prompts-file` (JSON lines; errors name the file and line). */
async function promptJobs(o: PromptFlags, tokenizer: CopeTokenizer | null, tokenizerFile: string): Promise<PromptJob[]> {
  const fromText = (text: string, where: string): number[] => {
    if (!tokenizer) throw new Error(`${tokenizerFile}: file not found (needed for ${where}; use prompt ids)`);
    return tokenizer.encode(promptText(tokenizer, { ...o, prompt: text }));
  };
  if (o.promptIds !== undefined) return [{ ids: parseIds(o.promptIds, '--prompt-ids'), fromText: false }];
  if (o.prompt !== undefined) return [{ ids: fromText(o.prompt, '--prompt'), fromText: true }];
  const file = o.promptsFile!;
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await fs.readFile(file, 'utf8');
  } catch {
    throw new Error(`${file}: file not found`);
  }
  const jobs: PromptJob[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let j: { prompt?: unknown; prompt_ids?: unknown; id?: unknown };
    try {
      j = JSON.parse(line);
    } catch {
      throw new Error(`${where}: not JSON; expected {"prompt": "…"} or {"prompt_ids": [...]}`);
    }
    const ids = j?.prompt_ids;
    if (typeof j?.prompt === 'string' && j.prompt !== '') jobs.push({ ids: fromText(j.prompt, where), fromText: true, id: j.id });
    else if (Array.isArray(ids) && ids.length > 0 && ids.every((x) => Number.isInteger(x) && x >= 0)) jobs.push({ ids: ids as number[], fromText: false, id: j.id });
    else throw new Error(`${where}: expected {"prompt": "…"} (non-empty text) or {"prompt_ids": [...]} (non-negative integers)`);
  });
  if (jobs.length === 0) throw new Error(`${file}: no prompts`);
  return jobs;
}

/** Flag combinations `cope generate` refuses before loading anything. */
function checkFlags(o: Record<string, string | boolean | undefined>): void {
  const given = [o.promptIds !== undefined, o.prompt !== undefined, o.promptsFile !== undefined].filter(Boolean).length;
  if (given !== 1) throw new Error('generate: give one of --prompt, --prompt-ids or --prompts-file');
  if (o.promptsFile !== undefined && o.stream) throw new Error('generate: --stream shows one generation; use --prompt with it, not --prompts-file');
  if (o.decoding === 'contrastive' && !o.adapter) throw new Error('generate: --decoding contrastive needs --adapter (the expert)');
  if (o.amateurModel !== undefined && o.decoding !== 'contrastive') throw new Error(`generate: --amateur-model is the amateur of contrastive decoding; add --decoding contrastive (got --decoding ${o.decoding})`);
  for (const [key, flag] of [['chatTemplate', '--chat-template'], ['system', '--system'], ['task', '--task']]) {
    if (o[key] !== undefined && o.promptIds !== undefined) throw new Error(`generate: ${flag} shapes prompt text; give --prompt or --prompts-file (not --prompt-ids)`);
  }
  if (o.task !== undefined && o.system !== undefined) throw new Error('generate: --system with --task: the task brings its own system prompt');
  if (o.system !== undefined && o.chatTemplate === undefined) throw new Error('generate: --system needs --chat-template (e.g. --chat-template model)');
}

/** A decoding flag from @cope/decoding's settings schema (help, default and choices). */
const decodingOption = (key: string, flags: string) => schemaOption(contrastiveSettingsSchema.shape, key, flags, { withDefault: true });

/** `cope generate`: greedy, sampling or contrastive decoding of prompts with a Hugging Face model folder. */
export function registerGenerateCommand(program: Command, io: CliIo): void {
  program
    .command('generate')
    .description('Generate new tokens: prints {"ids": [...]} (and "text" when the prompt was text, "logProbs" with --logprobs), a line per prompt')
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .option('--adapter <dir>', 'PEFT LoRA adapter (the expert with --decoding contrastive)')
    .option('--base-adapter <dir>', `${BASE_ADAPTER_HELP}; the amateur of contrastive decoding is the merged model unless --amateur-model is given`)
    .option('--amateur-model <dir>', 'with --decoding contrastive: a separate amateur model folder with the same tokenizer (default: the model without --adapter)')
    .option('--prompt-ids <ids>', 'comma-separated prompt token ids')
    .option('--prompt <text>', 'prompt text, tokenized with the model folder\'s tokenizer (BOS as configured)')
    .option('--prompts-file <file>', 'JSON lines (- for stdin), each {"prompt": "…"} or {"prompt_ids": [...]} with an optional "id": decoded in batches, one JSON line out per line in')
    .option('--batch-size <n>', 'prompts per batch with --prompts-file (left-padded; sampling draws from one seeded stream per batch)', '8')
    .option('--chat-template <name>', `wrap each prompt text as a user turn in a chat template: model (the tokenizer's own, else plain) or a preset (${CHAT_TEMPLATE_CHOICES.slice(1).join(', ')})`)
    .option('--system <text>', 'system message of the --chat-template turn')
    .option('--task <name>', 'with --prompt or --prompts-file: a query input of this task (e.g. "Generate a headline for the following article: …"), prompted as `cope run` decodes it (the task\'s system prompt and test template in --chat-template, default model; "text" made as in its outputs, see --output-text)')
    .addOption(new Option('--output-text <mode>', 'with --task: reference (CoPe\'s get_output for greedy and sampling, strip for contrastive) or trim (the generated text, trimmed)').choices(OUTPUT_TEXT_MODES).default('reference'))
    .option('--max-new-tokens <n>', 'tokens to generate (default: 32; with --task the task\'s, as CoPe decodes it: 100 short, 600 long)')
    .option('--decoding <name>', 'greedy | sample | contrastive', 'greedy')
    .addOption(decodingOption('contrastiveAlpha', '--contrastive-alpha <x>'))
    .addOption(decodingOption('plausibility', '--plausibility <x>'))
    .addOption(decodingOption('masked', '--masked <mode>'))
    .addOption(decodingOption('repetitionPenalty', '--repetition-penalty <x>'))
    .addOption(decodingOption('temperature', '--temperature <x>'))
    .addOption(decodingOption('topK', '--top-k <k>'))
    .addOption(decodingOption('topP', '--top-p <p>'))
    .option('--seed <n>', 'random seed', '0')
    .option('--logprobs', 'also print "logProbs": each new token\'s log-probability under the strategy\'s final distribution')
    .option('--stream', 'write the text to stderr as it is generated (needs the model folder\'s tokenizer)')
    .option('--weights <dtype>', WEIGHTS_HELP)
    .option('--backend <name>', BACKEND_HELP)
    .option('--threads <n>', THREADS_HELP)
    .action(async (o) => {
      checkFlags(o);
      if (o.amateurModel !== undefined) await checkSameTokenizer(o.model, o.amateurModel);
      const tokenizerFile = path.join(o.model, 'tokenizer.json');
      const hasTokenizer = existsSync(tokenizerFile);
      if (o.stream && !hasTokenizer) throw new Error(`${tokenizerFile}: file not found (needed for --stream)`);
      const tokenizer = hasTokenizer ? await loadTokenizer(o.model) : null;
      const jobs = await promptJobs(o, tokenizer, tokenizerFile);
      const batchSize = parsePositiveInt(o.batchSize, '--batch-size');
      const maxNewTokens = o.maxNewTokens !== undefined ? parsePositiveInt(o.maxNewTokens, '--max-new-tokens') : o.task !== undefined ? getTask(o.task).maxNewTokens : 32;
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
        const amateurModel = o.amateurModel !== undefined ? await loadModel(o.amateurModel, weightsFlag(o.weights)) : undefined;
        const stream = o.stream ? textStreamer((ids) => tokenizer!.decode(ids, { skipSpecialTokens: true }), io.progress ?? (() => {})) : undefined;
        const sofar: number[] = [];
        const rng = new Rng(parseNumber(o.seed, '--seed'));
        // generation_config.json's EOS ids (an instruct model's end of turn), else config.json's, and the tokenizer's.
        const eosTokenIds = await stopTokenIds(o.model, model.config.eosTokenIds, tokenizer?.eosId);
        try {
          if (amateurModel && amateurModel.config.vocabSize !== model.config.vocabSize) {
            throw new Error(`${path.join(o.amateurModel, 'config.json')}: vocab_size is ${amateurModel.config.vocabSize}, expected ${model.config.vocabSize} (the vocabulary of ${o.model}): the amateur must share the expert's tokenizer`);
          }
          for (let start = 0; start < jobs.length; start += batchSize) {
            const batch = jobs.slice(start, start + batchSize);
            const results = await generate(model, batch.map((j) => j.ids), {
              maxNewTokens,
              decoder,
              adapter,
              amateurModel,
              eosTokenIds,
              rng,
              onToken: stream ? (_, token) => {
                sofar.push(token);
                stream.push(sofar);
              } : undefined,
            });
            results.forEach((r, k) => {
              if (stream) stream.end(r.ids);
              const job = batch[k];
              const out: Record<string, unknown> = job.id !== undefined ? { id: job.id, ids: r.ids } : { ids: r.ids };
              if (o.logprobs) out.logProbs = r.logProbs;
              if (job.fromText && tokenizer) {
                // With a task, as the pipeline writes its outputs.
                out.text = o.task !== undefined
                  ? outputText(tokenizer, getTask(o.task), job.ids, r.ids, o.decoding === 'contrastive', o.outputText)
                  : tokenizer.decode(r.ids, { skipSpecialTokens: true });
              }
              io.out(JSON.stringify(out));
            });
          }
        } finally {
          if (amateurModel) disposeModel(amateurModel);
        }
      });
    });
}
