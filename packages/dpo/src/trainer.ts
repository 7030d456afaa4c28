import { readText, sha256Hex, type FileStore } from '@cope/core';
import type { DpoTriple } from '@cope/data';
import { completionLogProbSums, modelTensors, type CausalLM, type LoraAdapter } from '@cope/model';
import { trainLora, type StepLog, type TrainResult } from '@cope/sft';
import { asTrainerConfig, type DpoConfig } from './config.js';
import { dpoGradients } from './gradients.js';

/** A DPO pair with its frozen reference log-probs. */
export interface DpoExample extends DpoTriple {
  refChosen: number;
  refRejected: number;
}

/** A fingerprint of a model's weights: its load-time hash of every byte, else config plus head and tail values of every tensor. */
export async function modelFingerprint(model: CausalLM): Promise<string> {
  // Loaded (or merged from loaded) models carry the hash of every byte they came from.
  if (model.fingerprint) return model.fingerprint.slice(0, 16);
  const parts: Array<string | Uint8Array> = [JSON.stringify(model.config)];
  for (const t of modelTensors(model, false)) {
    const d = (await t.data()) as Float32Array;
    parts.push(new Uint8Array(d.slice(0, 256).buffer), new Uint8Array(d.slice(-256).buffer), String(d.length));
  }
  return sha256Hex(...parts).slice(0, 16);
}

/** The file of `store` that caches the reference log-probs. */
export const REFERENCE_FILE = 'reference_logps.json';

/**
 * Reference log-probs of chosen and rejected completions under the TAM model (no adapter), computed
 * once and cached in `store`'s {@link REFERENCE_FILE} under a hash of the triples and the weights: the reference is
 * frozen, so the cache is exact.
 */
export async function referenceLogProbs(model: CausalLM, triples: DpoTriple[], store: FileStore, batchSize = 8): Promise<DpoExample[]> {
  const key = sha256Hex(JSON.stringify(triples), await modelFingerprint(model)).slice(0, 24);
  try {
    const cached = JSON.parse((await readText(store, REFERENCE_FILE)) ?? 'null') as { key: string; chosen: number[]; rejected: number[] } | null;
    if (cached?.key === key && cached.chosen.length === triples.length) {
      return triples.map((t, i) => ({ ...t, refChosen: cached.chosen[i], refRejected: cached.rejected[i] }));
    }
  } catch {
    // No usable cache: compute it.
  }
  const chosen: number[] = [];
  const rejected: number[] = [];
  for (let i = 0; i < triples.length; i += batchSize) {
    const b = triples.slice(i, i + batchSize);
    const pairs = [...b.map((t) => ({ prompt: t.prompt, completion: t.chosen })), ...b.map((t) => ({ prompt: t.prompt, completion: t.rejected }))];
    const sums = completionLogProbSums(model, pairs, null);
    const v = Array.from(await sums.data());
    sums.dispose();
    chosen.push(...v.slice(0, b.length));
    rejected.push(...v.slice(b.length));
  }
  await store.write(REFERENCE_FILE, JSON.stringify({ key, chosen, rejected }) + '\n');
  return triples.map((t, i) => ({ ...t, refChosen: chosen[i], refRejected: rejected[i] }));
}

export interface DpoTrainOptions {
  /** The TAM model; with the adapter disabled it is the reference. */
  model: CausalLM;
  /** The user's OPPU adapter: the policy, trained further. */
  adapter: LoraAdapter;
  triples: DpoTriple[];
  config: DpoConfig;
  /** Where the adapter, the trainer's files and the reference cache go (`folderStore(dir)` under Node). */
  store: FileStore;
  onStep?: (log: StepLog) => void;
  stopAfterSteps?: number;
}

/**
 * Per-user DPO: policy = the user's adapter, reference = the TAM model with the adapter disabled,
 * reference log-probs precomputed once. Reuses the SFT trainer (optimiser, schedule, clipping,
 * checkpoints, metrics.jsonl) and logs trl's reward statistics per step.
 */
export async function trainDpo(opts: DpoTrainOptions): Promise<TrainResult> {
  const { model, config: c } = opts;
  if (opts.triples.length === 0) throw new Error(`${opts.store.location}: no DPO pairs`);
  const examples = await referenceLogProbs(model, opts.triples, opts.store);
  return trainLora<DpoExample>({
    model,
    examples,
    config: asTrainerConfig(c, opts.adapter.config.dropout),
    store: opts.store,
    name: opts.adapter.name,
    initialAdapter: opts.adapter,
    dataKey: sha256Hex(JSON.stringify(examples)),
    tokensOf: (e) => e.prompt.length * 2 + e.chosen.length + e.rejected.length,
    onStep: opts.onStep,
    stopAfterSteps: opts.stopAfterSteps,
    gradients: (m, adapter, batch, rng, variables) =>
      dpoGradients(m, adapter, batch, { beta: c.beta, lossType: c.lossType, labelSmoothing: c.labelSmoothing }, rng, variables, c.separateBackward),
  });
}
