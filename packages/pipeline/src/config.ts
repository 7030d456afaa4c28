import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { CHAT_TEMPLATE_CHOICES, OUTPUT_TEXT_MODES, TASK_NAMES } from '@cope/data';
import { dpoConfigSchema } from '@cope/dpo';
import { contrastiveSettingsSchema, samplingSettingsSchema } from '@cope/decoding';
import { SFT_PRESETS, sftConfigSchema, withSftPreset } from '@cope/sft';
import { describeIssues, settingIssues, type SettingIssue } from './config-issues.js';
import { METHOD_NAMES } from './methods.js';

const taskName = z.enum(TASK_NAMES);


/**
 * Overrides of a trainer's settings: kept as written (the stages add the seed), checked here against the
 * trainer's own schema with its preset under them, so a bad or unknown key is refused before any work.
 */
function trainerOverrides(check: (o: Record<string, unknown>) => SettingIssue[]) {
  return z.record(z.string(), z.unknown()).default({}).superRefine((o, ctx) => {
    for (const i of check(o)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  });
}
/** Sampling settings' ranges (and Hugging Face's defaults where CoPe keeps them): @cope/decoding's schema. */
const sampling = samplingSettingsSchema.shape;

/**
 * CoPe's `--is_sampling`: each method is sampled `runs` times (seeded per user and run) instead of decoded greedily,
 * into `<method>-sampling-run_<n>.json`, and evaluated per run and as the mean of the runs. Defaults are the published
 * ones: 3 runs, temperature 0.3, top-k 50, top-p 0.95.
 */
export const samplingRunsSchema = z.strictObject({
  runs: z.number().int().positive().default(3),
  temperature: sampling.temperature.unwrap().default(0.3),
  topK: sampling.topK,
  topP: sampling.topP.unwrap().default(0.95),
});

const sftOverrides = (preset: keyof typeof SFT_PRESETS) => trainerOverrides((o) => settingIssues(sftConfigSchema, withSftPreset(preset, o)));

/**
 * The configuration of a CoPe run. Defaults are the published values (CoPe's scripts/*.py, §3-9), except where
 * a comment says otherwise.
 */
export const runConfigSchema = z.strictObject({
  /** Tasks to run. */
  tasks: z.array(taskName).nonempty().default(['news_headline']),
  /** Folder with `<task>/user_others.json`, `user_top_100_history.json`, `…_label.json`. */
  dataDir: z.string(),
  /** Hugging Face model folder (config.json, model.safetensors, tokenizer.json). */
  model: z.string(),
  /** Run folder; CoPe's layout inside (`ckpt/`, `data/`, `output/`). */
  runDir: z.string(),
  seed: z.number().int().default(42).describe('seed of every random stream of the run (TAM, each user\'s trainers, sampling, decoding)'),
  backend: z.string().default('auto'),
  chatTemplate: z.enum(CHAT_TEMPLATE_CHOICES).default('model').describe('chat template: model (the tokenizer\'s own, else plain) or a CoPe preset'),
  maxUsers: z.number().int().positive().optional().describe('only the first N target users (all when omitted)'),
  /**
   * Users run in parallel worker threads, each with its own backend: one per core, at most 4, by default
   * (independent users scale better than one user's products split over threads).
   */
  workers: z.number().int().positive().default(Math.max(1, Math.min(os.availableParallelism(), 4))).describe('users (and tasks\' TAMs) trained and decoded in parallel worker threads, each with its own backend'),
  /**
   * Threads of the wasm backend in the main process (`COPE_THREADS` or 1 when unset); each worker gets an
   * equal share, at least 1. More threads train and read prompts faster (larger models gain most); decoding steps gain nothing
   * (@cope/model's README, "Threads").
   */
  threads: z.number().int().positive().optional().describe('threads (wasm or native backend) of the main process, shared out among workers (default: COPE_THREADS or 1)'),
  shard: z.string().regex(/^\d+\/\d+$/).default('0/1').describe('i/n: process users with index ≡ i (mod n); join the shards\' folders with cope merge'),
  /** Overrides of the SFT presets (TAM: r 16, alpha 16, q/k/v/o, lr 1e-4, 3 epochs, batch 8). */
  tam: sftOverrides('tam'),
  /** Overrides of the OPPU preset (r 8, alpha 8, q/v, lr 1e-4, 2 epochs, batch 4). */
  oppu: sftOverrides('oppu'),
  negatives: z.strictObject({
    /** `--response_num 3`. */
    n: z.number().int().positive().default(3),
    /** `--temperature 1.0`. */
    temperature: sampling.temperature.unwrap().default(1),
    /** `top_p=0.95`. */
    topP: sampling.topP.unwrap().default(0.95),
    maxNewTokens: z.number().int().positive().optional(),
    repetitionPenalty: sampling.repetitionPenalty,
  }).prefault({}),
  score: z.strictObject({
    /** Design decision 3: `completion` by default; `cope-compat` for the published formula. */
    mode: z.enum(['completion', 'cope-compat']).default('completion'),
    /** `--std max`: the lowest implicit reward. */
    selection: z.enum(['max', 'min']).default('max'),
  }).prefault({}),
  /** DPO overrides (lr 5e-6, 1 epoch, batch 8, β 0.01, sigmoid). */
  dpo: trainerOverrides((o) => settingIssues(dpoConfigSchema, o)),
  decode: z.strictObject({
    // λ, plausibility, masking and the repetition penalty (long tasks: the README's 1.0): @cope/decoding's schema.
    ...contrastiveSettingsSchema.pick({ contrastiveAlpha: true, plausibility: true, masked: true, repetitionPenalty: true }).shape,
    /** 100 / 600 by task when omitted. */
    maxNewTokens: z.number().int().positive().optional(),
    batchSize: z.number().int().positive().default(8),
    /** How generations become output texts: `reference` as CoPe's scripts (get_output / strip), or `trim` (@cope/data's OUTPUT_TEXT_MODES). */
    outputText: z.enum(OUTPUT_TEXT_MODES).default('reference'),
    sampling: samplingRunsSchema.optional(),
  }).prefault({}),
  /** Methods decoded and evaluated. */
  methods: z.array(z.enum(METHOD_NAMES)).nonempty().default([...METHOD_NAMES]),
});

export type RunConfig = z.infer<typeof runConfigSchema>;

/**
 * `value` checked against the run config schema, trainer settings included: the resolved config (paths made
 * absolute), or the first problem with its key path, for the caller to say where the bad value came from.
 */
export function checkRunConfig(value: unknown): { config: RunConfig } | { issue: SettingIssue } {
  const r = runConfigSchema.safeParse(value, { reportInput: true });
  if (!r.success) return { issue: describeIssues(runConfigSchema, r.error.issues)[0] };
  const c = r.data;
  return { config: { ...c, dataDir: path.resolve(c.dataDir), model: path.resolve(c.model), runDir: path.resolve(c.runDir) } };
}

/** This process's part of the users: index ≡ `index` (mod `count`). */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(s: string): Shard {
  const [i, n] = s.split('/').map(Number);
  if (!(n >= 1 && i >= 0 && i < n)) throw new Error(`--shard: expected i/n with 0 <= i < n, got "${s}"`);
  return { index: i, count: n };
}
