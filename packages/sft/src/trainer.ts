import { Rng, SEEDS, readText, sha256Hex, type FileStore } from '@cope/core';
import { padBatch, type SftExample } from '@cope/data';
import {
  adapterVariables, createLoraAdapter, disposeModel, forward, modelTensors, parseSafetensors, readLoraAdapter, readModel, serializeSafetensors, tf, trainableModel, writeLoraAdapter, writeModel, type CausalLM, type HostTensor, type LoraAdapter,
} from '@cope/model';
import { AdamW } from './adamw.js';
import { clipByGlobalNorm } from './clip.js';
import type { SftConfig } from './config.js';
import { maskedCrossEntropy } from './loss.js';
import { linearWarmupLr } from './schedule.js';

/** One optimiser step's record (a line of metrics.jsonl). */
export interface StepLog {
  step: number;
  /** Examples cut to the token cut-off (counted once, logged with every step). */
  truncatedExamples: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
}

/**
 * A micro-batch's loss, which the trainer differentiates with respect to the adapter; optionally with scalars to
 * log (e.g. DPO's rewards), which the trainer reads after the step (never inside the gradient tape) and averages
 * over the step's micro-batches.
 */
export type BatchLoss<E> = (model: CausalLM, adapter: LoraAdapter, batch: E[], rng: Rng) => tf.Scalar | { loss: tf.Scalar; logs: Record<string, tf.Scalar> };

/** A micro-batch's loss, gradients (by variable name) and optional scalars to log; the caller disposes them. */
export interface BatchGradients {
  loss: tf.Scalar;
  grads: Record<string, tf.Tensor>;
  logs?: Record<string, tf.Scalar>;
}

/**
 * Computes a micro-batch's gradients itself instead of one gradient tape over {@link BatchLoss} (DPO splits a
 * pair's sequences into separate backward passes this way, for models whose activations would not fit twice).
 */
export type BatchGradientsFn<E> = (model: CausalLM, adapter: LoraAdapter, batch: E[], rng: Rng, variables: tf.Variable[]) => BatchGradients | Promise<BatchGradients>;

/** One gradient tape over `loss`: its value, the gradients of `vars`, and the scalars it asks to log (kept past the tape). */
export function tapedGradients(loss: () => ReturnType<BatchLoss<unknown>>, vars: tf.Variable[]): BatchGradients {
  let logs: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const out = loss();
    if (out instanceof tf.Tensor) return out;
    logs = Object.fromEntries(Object.entries(out.logs).map(([k, t]) => [k, tf.keep(t)]));
    return out.loss;
  }, vars);
  return { loss: value, grads, logs };
}

export interface TrainOptions<E> {
  model: CausalLM;
  examples: E[];
  config: SftConfig;
  /**
   * Where the run's files go: the final PEFT adapter, trainer_state.json, metrics.jsonl, checkpoint/ (`folderStore(dir)`
   * of @cope/core under Node; `memoryStore()` in a browser).
   */
  store: FileStore;
  /** Adapter name (defaults to the store's last path segment). */
  name?: string;
  /** Start from this adapter instead of a fresh one (DPO continues the OPPU adapter). */
  initialAdapter?: LoraAdapter;
  /** Loss of a micro-batch (the SFT loss by default). */
  loss?: BatchLoss<E>;
  /** Gradients of a micro-batch, computed by the caller (replaces one tape over `loss`). */
  gradients?: BatchGradientsFn<E>;
  /** Tokens a micro-batch holds, for tokens/s. */
  tokensOf?: (e: E) => number;
  /** Fingerprint of the data, so a checkpoint is never resumed on other data. */
  dataKey?: string;
  onStep?: (log: StepLog) => void;
  /** Stop after this many optimiser steps of this call (simulates an interruption in tests). */
  stopAfterSteps?: number;
  padId?: number;
}

export interface TrainResult {
  adapter: LoraAdapter;
  steps: number;
  resumedFromStep: number;
  finished: boolean;
}

interface TrainerState {
  version: 1;
  key: string;
  step: number;
  totalSteps: number;
  rng: number[];
  finished: boolean;
}

/** SFT loss over right-padded examples: cross-entropy on target tokens only. */
export function sftBatchLoss(padId = 0): BatchLoss<SftExample> {
  return (model, adapter, batch, rng) => {
    const { ids, attentionMask, labelMask } = padBatch(batch, padId, 'right');
    return maskedCrossEntropy(forward(model, ids, { attentionMask, adapters: adapter, dropoutRng: rng }).logits, ids, labelMask);
  };
}

/** Order of examples in an epoch: a fixed function of the seed and epoch, so resuming needs no saved order. */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  return new Rng(SEEDS.epochOrder(seed, epoch)).shuffle(Array.from({ length: n }, (_, i) => i));
}

function hashOf(x: unknown): string {
  return sha256Hex(JSON.stringify(x)).slice(0, 16);
}

/** The trainer's record: its step, config key and whether it finished. */
const STATE_FILE = 'trainer_state.json';
/** Where checkpoints go inside the store. */
const CHECKPOINT = 'checkpoint/';
/** One line per optimiser step. */
const METRICS = 'metrics.jsonl';

/** Whether a trainer finished in `store` (its trainer_state.json says so); a stopped one resumes from its checkpoint. */
export async function trainingFinished(store: FileStore): Promise<boolean> {
  return (await readJson<TrainerState>(store, STATE_FILE))?.finished === true;
}

async function readJson<T>(store: FileStore, name: string): Promise<T | null> {
  const text = await readText(store, name);
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${store.location}/${name}: not valid JSON (${(e as Error).message})`);
  }
}

/** The last segment of a store's location: a folder's name. */
const lastSegment = (location: string) => location.replace(/\/+$/, '').split('/').pop() || 'adapter';

/** What the training loop trains: an adapter, or every weight of a model. */
interface Trainee<T> {
  /** Loads a saved result from the store (under `prefix`: the checkpoint's). */
  load(store: FileStore, prefix: string): Promise<T>;
  /** A fresh start. */
  create(rng: Rng): T;
  variables(value: T): tf.Variable[];
  save(value: T, store: FileStore, prefix: string): Promise<void>;
}

interface LoopResult<T> {
  value: T;
  steps: number;
  resumedFromStep: number;
  finished: boolean;
}

/**
 * The training loop shared by LoRA, full-parameter and DPO training: AdamW, the linear warm-up schedule,
 * global-norm clipping, gradient accumulation, seeded shuffling; checkpoints (weights, optimiser moments,
 * RNG state, step) every `checkpointEvery` steps, written atomically; resume from a checkpoint; a finished
 * folder is loaded, not retrained.
 */
async function runTraining<E, T>(opts: TrainOptions<E>, trainee: Trainee<T>, initial: T | undefined, gradientsOf: (value: T, batch: E[], rng: Rng, vars: tf.Variable[]) => BatchGradients | Promise<BatchGradients>): Promise<LoopResult<T>> {
  const { model, examples, config: c, store } = opts;
  if (examples.length === 0) throw new Error(`${store.location}: no training examples`);
  const tokensOf = opts.tokensOf ?? ((e: E) => (e as unknown as SftExample).ids?.length ?? 0);
  const truncatedExamples = examples.filter((e) => (e as unknown as SftExample).truncated === true).length;
  const microPerEpoch = Math.ceil(examples.length / c.batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / c.gradientAccumulation);
  const totalSteps = stepsPerEpoch * c.epochs;
  const key = hashOf({ c, data: opts.dataKey ?? examples.length, model: model.config });

  const final = await readJson<TrainerState>(store, STATE_FILE);
  if (final?.finished && final.key === key) {
    return { value: await trainee.load(store, ''), steps: final.step, resumedFromStep: final.step, finished: true };
  }

  let value: T;
  let step = 0;
  const rng = new Rng(c.seed);
  const opt = new AdamW({ weightDecay: c.weightDecay });
  const ckpt = await readJson<TrainerState>(store, CHECKPOINT + STATE_FILE);
  const momentsBytes = ckpt && ckpt.key === key && !ckpt.finished ? await store.read(`${CHECKPOINT}optimizer.safetensors`) : null;
  if (ckpt && momentsBytes) {
    value = await trainee.load(store, CHECKPOINT);
    const moments = parseSafetensors(momentsBytes, `${store.location}/${CHECKPOINT}optimizer.safetensors`).tensors;
    trainee.variables(value).forEach((v, i) => {
      const m = moments.get(`m.${i}`);
      const s = moments.get(`v.${i}`);
      if (m && s) {
        opt.state.m.set(v.name, tf.tensor(m.data, m.shape));
        opt.state.v.set(v.name, tf.tensor(s.data, s.shape));
      }
    });
    opt.state.step = ckpt.step;
    step = ckpt.step;
    rng.restore(ckpt.rng);
  } else {
    value = initial ?? trainee.create(rng);
  }
  const resumedFromStep = step;
  const vars = trainee.variables(value);
  if (step === 0) await store.write(METRICS, '');
  else {
    // Steps logged after the checkpoint we resume from are redone: drop their lines.
    const kept = ((await readText(store, METRICS)) ?? '').split('\n').filter((l) => l && JSON.parse(l).step <= step);
    await store.write(METRICS, kept.map((l) => l + '\n').join(''));
  }

  const saveCheckpoint = async (finished: boolean) => {
    const prefix = finished ? '' : CHECKPOINT;
    await trainee.save(value, store, prefix);
    if (!finished) {
      const moments = new Map<string, HostTensor>();
      for (const [i, v] of vars.entries()) {
        const m = opt.state.m.get(v.name);
        const s = opt.state.v.get(v.name);
        if (m && s) {
          moments.set(`m.${i}`, { shape: m.shape.slice(), data: (await m.data()) as Float32Array });
          moments.set(`v.${i}`, { shape: s.shape.slice(), data: (await s.data()) as Float32Array });
        }
      }
      await store.write(`${prefix}optimizer.safetensors`, serializeSafetensors(moments));
    }
    const state: TrainerState = { version: 1, key, step, totalSteps, rng: rng.state(), finished };
    await store.write(prefix + STATE_FILE, JSON.stringify(state, null, 2) + '\n');
    if (finished) await store.remove(CHECKPOINT.slice(0, -1));
  };

  const t0 = performance.now();
  let stepsThisCall = 0;
  try {
    while (step < totalSteps) {
      const epoch = Math.floor(step / stepsPerEpoch);
      const order = epochOrder(examples.length, c.seed, epoch);
      const first = (step % stepsPerEpoch) * c.gradientAccumulation;
      const micro = Array.from({ length: Math.min(c.gradientAccumulation, microPerEpoch - first) }, (_, k) => first + k);
      const tStep = performance.now();
      let tokens = 0;
      let lossSum = 0;
      let acc: Record<string, tf.Tensor> | null = null;
      const logSums: Record<string, number> = {};
      for (const mb of micro) {
        const indices = order.slice(mb * c.batchSize, (mb + 1) * c.batchSize);
        const batch = indices.map((i) => examples[i]);
        tokens += batch.reduce((a, e) => a + tokensOf(e), 0);
        let loss: tf.Scalar;
        let grads: Record<string, tf.Tensor>;
        let logs: Record<string, tf.Scalar> = {};
        try {
          ({ loss, grads, logs = {} } = await gradientsOf(value, batch, rng, vars));
        } catch (e) {
          // Name the step's examples: a failure (an exhausted heap, say) is then traceable to its inputs.
          throw new Error(`training step ${step + 1} on examples ${indices.join(', ')} (${batch.map(tokensOf).join(', ')} tokens): ${(e as Error).message}`, { cause: e });
        }
        lossSum += (await loss.data())[0];
        loss.dispose();
        for (const [k, t] of Object.entries(logs)) logSums[k] = (logSums[k] ?? 0) + (await t.data())[0];
        tf.dispose(Object.values(logs));
        if (!acc) acc = grads;
        else {
          const prev: Record<string, tf.Tensor> = acc;
          acc = Object.fromEntries(Object.keys(grads).map((k) => [k, tf.add(prev[k], grads[k])]));
          tf.dispose([...Object.values(prev), ...Object.values(grads)]);
        }
      }
      const summed = acc!;
      const scaled = micro.length > 1 ? Object.fromEntries(Object.entries(summed).map(([k, g]) => [k, tf.div(g, micro.length)])) : summed;
      const { grads: clipped, norm } = clipByGlobalNorm(scaled, c.maxGradNorm);
      const lr = linearWarmupLr(c.learningRate, step, totalSteps, c.warmupRatio);
      opt.apply(vars, clipped, lr);
      tf.dispose([...Object.values(summed), ...(scaled !== summed ? Object.values(scaled) : []), ...Object.values(clipped)]);
      step++;
      stepsThisCall++;
      const log: StepLog & Record<string, number> = {
        step, truncatedExamples, totalSteps, epoch: step / stepsPerEpoch, loss: lossSum / micro.length, lr, gradNorm: norm,
        tokensPerSecond: tokens / ((performance.now() - tStep) / 1000), elapsedSeconds: (performance.now() - t0) / 1000,
        ...Object.fromEntries(Object.entries(logSums).map(([k, v]) => [k, v / micro.length])),
      };
      await store.append(METRICS, JSON.stringify(log) + '\n');
      opts.onStep?.(log);
      if (step < totalSteps && c.checkpointEvery > 0 && step % c.checkpointEvery === 0) await saveCheckpoint(false);
      if (opts.stopAfterSteps !== undefined && stepsThisCall >= opts.stopAfterSteps && step < totalSteps) {
        return { value, steps: step, resumedFromStep, finished: false };
      }
    }
    await saveCheckpoint(true);
    return { value, steps: step, resumedFromStep, finished: true };
  } finally {
    opt.dispose();
  }
}

/**
 * Trains a LoRA adapter on `examples` (base frozen) with the shared loop: AdamW, the linear warm-up
 * schedule, global-norm clipping, gradient accumulation, seeded shuffling and LoRA dropout. Checkpoints
 * every `checkpointEvery` steps; a later call with the same config and data resumes and ends with the same
 * weights as an uninterrupted run (bitwise on the same backend). The result is a PEFT adapter folder.
 */
export async function trainLora<E = SftExample>(opts: TrainOptions<E>): Promise<TrainResult> {
  const { model, config: c } = opts;
  const name = opts.name ?? lastSegment(opts.store.location);
  const batchLoss = opts.loss ?? (sftBatchLoss(opts.padId) as unknown as BatchLoss<E>);
  const trainee: Trainee<LoraAdapter> = {
    load: async (store, prefix) => {
      const a = await readLoraAdapter(store, model, name, prefix);
      a.config.dropout = c.lora.dropout;
      return a;
    },
    create: (rng) => createLoraAdapter(model, name, { ...c.lora, useRslora: false }, rng),
    variables: (a) => adapterVariables(a),
    save: (a, store, prefix) => writeLoraAdapter(store, a, prefix),
  };
  const r = await runTraining(opts, trainee, opts.initialAdapter, (a, batch, rng, vars) =>
    opts.gradients ? opts.gradients(model, a, batch, rng, vars) : tapedGradients(() => batchLoss(model, a, batch, rng), vars));
  return { adapter: r.value, steps: r.steps, resumedFromStep: r.resumedFromStep, finished: r.finished };
}

export interface FullTrainResult {
  /** The trained model; its weights are tf.Variables (dispose with disposeModel). */
  model: CausalLM;
  steps: number;
  resumedFromStep: number;
  finished: boolean;
}

/**
 * Full-parameter SFT (used for the tiny base model): every weight is trained; the result is saved as a
 * Hugging Face model folder (`config.json` + `model.safetensors`) with the same checkpointing, resume and
 * logging as {@link trainLora}. Needs untied embeddings. The input model is left untouched.
 */
export async function trainFull(opts: Omit<TrainOptions<SftExample>, 'initialAdapter' | 'loss' | 'gradients'>): Promise<FullTrainResult> {
  const base = opts.model;
  const toTrainable = (m: CausalLM) => trainableModel(m, `full-${lastSegment(opts.store.location)}`).model;
  const trainee: Trainee<CausalLM> = {
    load: async (store, prefix) => {
      const loaded = await readModel(store, prefix);
      const t = toTrainable(loaded);
      disposeModel(loaded);
      return t;
    },
    create: () => toTrainable(base),
    variables: (m) => modelTensors(m, false) as tf.Variable[],
    save: (m, store, prefix) => writeModel(store, m, prefix),
  };
  const pad = opts.padId ?? 0;
  const r = await runTraining<SftExample, CausalLM>({ ...opts }, trainee, undefined, (m, batch, _rng, vars) =>
    tapedGradients(() => {
      const { ids, attentionMask, labelMask } = padBatch(batch, pad, 'right');
      return maskedCrossEntropy(forward(m, ids, { attentionMask }).logits, ids, labelMask);
    }, vars));
  return { model: r.value, steps: r.steps, resumedFromStep: r.resumedFromStep, finished: r.finished };
}
