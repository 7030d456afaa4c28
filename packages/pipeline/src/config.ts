import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { TASK_NAMES } from '@cope/data';
import { describeIssues, type SettingIssue } from './config-issues.js';
import { methodSettingsSchema } from './method-settings.js';

const taskName = z.enum(TASK_NAMES);
const m = methodSettingsSchema.shape;

/**
 * The configuration of a CoPe run: the method's settings ({@link methodSettingsSchema}) and the run's files, users and
 * processes.
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
  seed: m.seed,
  backend: z.string().default('auto'),
  chatTemplate: m.chatTemplate,
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
  tam: m.tam,
  oppu: m.oppu,
  negatives: m.negatives,
  score: m.score,
  dpo: m.dpo,
  decode: m.decode,
  methods: m.methods,
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
