import { writeFileAtomic } from '@cope/core';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import {
  BACKENDS, modelFloat32Bytes, disposeAdapter, disposeModel, forward, initBackend, loadLoraAdapter, loadModel, mergeLoraAdapter, saveModel, type CausalLM, type LoadModelOptions, type LoraAdapter,
} from '@cope/model';
import { parseIds, parsePositiveInt, type CliIo } from '../io.js';

export interface ModelFlags {
  model: string;
  adapter?: string;
  baseAdapter?: string;
  backend?: string;
  threads?: string;
  weights?: string;
}

/** `--backend`'s help: the backends @cope/model sets up. */
export const BACKEND_HELP = [...BACKENDS, 'auto'].join(' | ');
/** `--threads`'s help. */
export const THREADS_HELP = 'threads of the wasm or native backend (default: COPE_THREADS or 1)';
/** `--weights`'s help. */
export const WEIGHTS_HELP = "float32 (default) | bf16: keep a BF16 model's projections in bf16 (native backend, inference; half the memory)";

/** The `--weights` choice as loadModel takes it. */
export function weightsFlag(value: string | undefined): LoadModelOptions {
  if (value === undefined || value === 'float32') return {};
  if (value === 'bf16') return { weights: 'bf16' };
  throw new Error(`--weights: expected float32 or bf16, got "${value}"`);
}

/**
 * The model of `--model`, with `--base-adapter` merged into it (PEFT's merge_and_unload), and `--adapter`
 * loaded on that: CoPe's TAM adapter is the base adapter, an OPPU or DPO adapter (trained on the TAM model)
 * the adapter.
 */
export async function withModel<T>(opts: ModelFlags, fn: (m: CausalLM, a: LoraAdapter | null) => Promise<T>): Promise<T> {
  const threads = opts.threads === undefined ? undefined : parsePositiveInt(opts.threads, '--threads');
  // These commands (forward, generate, merge-adapter) never train.
  await initBackend(opts.backend, { threads, modelBytes: await modelFloat32Bytes(opts.model), inferenceOnly: true });
  let model = await loadModel(opts.model, weightsFlag(opts.weights));
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

/** Files of a Hugging Face model folder that travel with its weights (tokenizer and generation settings). */
const COMPANION_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];

export const BASE_ADAPTER_HELP = 'PEFT LoRA adapter merged into the model first (CoPe: the TAM adapter, ckpt/TAM/<task>; --adapter then loads on the merged model)';

/** `cope forward` and `cope merge-adapter`: commands over a Hugging Face model folder (`cope generate`: generate-command.ts). */
export function registerModelCommands(program: Command, io: CliIo): void {
  program
    .command('forward')
    .description('Print the logits of one sequence: {"logits": [[...vocab], ...]} (one row per position)')
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .option('--adapter <dir>', 'PEFT LoRA adapter folder')
    .option('--base-adapter <dir>', BASE_ADAPTER_HELP)
    .requiredOption('--ids <ids>', 'comma-separated token ids, e.g. 5,9,12')
    .option('--weights <dtype>', WEIGHTS_HELP)
    .option('--backend <name>', BACKEND_HELP)
    .option('--threads <n>', THREADS_HELP)
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
    .command('merge-adapter')
    .description('Write a Hugging Face model folder with a LoRA adapter merged into the weights (PEFT merge_and_unload)')
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .requiredOption('--adapter <dir>', 'PEFT LoRA adapter folder (e.g. ckpt/TAM/<task>: the TAM model)')
    .requiredOption('--out <dir>', 'output folder: config.json, model.safetensors and the model folder\'s tokenizer and generation files')
    .option('--dtype <type>', 'f32 | bf16', 'f32')
    .option('--backend <name>', BACKEND_HELP)
    .option('--threads <n>', THREADS_HELP)
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

