import { Rng, SEEDS, fileExists as exists, writeFileAtomic } from '@cope/core';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TASKS, outputText, userKey, readOtherUsers, readUserPart, type UserRecord } from '@cope/data';
import { PromptCache, contrastiveDecoder, generate, plainDecoder } from '@cope/decoding';
import { resolveDpoConfig, trainDpo } from '@cope/dpo';
import { disposeAdapter, loadLoraAdapter, type LoraAdapter } from '@cope/model';
import { assembleParts, runPerUser, sampleUserNegatives, scoreUserNegatives } from '@cope/negatives';
import { resolveSftConfig, trainLora, type StepLog } from '@cope/sft';
import { evaluateLamp, type LampTaskId } from '@cope/metrics';
import { METHODS, type Method, type RunConfig } from './config.js';
import { loadTam, taskContext, type StageContext, type TaskData } from './context.js';

/** Per-user stages, in pipeline order. */
export const USER_STAGES = ['sft', 'negatives', 'score', 'dpo', 'decode'] as const;
export type UserStage = (typeof USER_STAGES)[number];
export type { Method };

/** One predictions file: a method decoded greedily (`name` = the method), or one of its sampled runs. */
export interface DecodeOutput {
  name: string;
  method: Method;
  /** 1-based sampling run; absent for greedy decoding. */
  run?: number;
}

/** The predictions files a run's config asks for, in method order. */
export function decodeOutputs(config: RunConfig): DecodeOutput[] {
  const sampling = config.decode.sampling;
  return config.methods.flatMap<DecodeOutput>((method) => (sampling
    ? Array.from({ length: sampling.runs }, (_, k) => ({ name: `${method}-sampling-run_${k + 1}`, method, run: k + 1 }))
    : [{ name: method, method }]));
}

/** Receives progress events; the CLI renders them as bars on a terminal, JSON lines otherwise. */
export interface Reporter {
  event(e: { stage: string; task: string; user?: number; kind: 'start' | 'step' | 'done' | 'skip' | 'info'; [k: string]: unknown }): void;
}

async function isFinished(dir: string): Promise<boolean> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, 'trainer_state.json'), 'utf8')).finished === true;
  } catch {
    return false;
  }
}

const stepReporter = (r: Reporter, stage: string, task: string, user?: number) => (l: StepLog) => r.event({ stage, task, user, kind: 'step', step: l.step, total: l.totalSteps, loss: l.loss });

/** TAM: one LoRA over the non-target users' queries (raw LaMP inputs), saved to ckpt/TAM/<task>. */
export async function runTam(ctx: StageContext, r: Reporter): Promise<void> {
  const task = ctx.taskName;
  if (await isFinished(ctx.layout.tam)) return r.event({ stage: 'tam', task, kind: 'skip' });
  const others = await readOtherUsers(`${ctx.config.dataDir}/${task}`, task);
  const examples = ctx.codec.tamExamples(others);
  const config = resolveSftConfig('tam', { seed: ctx.config.seed, ...ctx.config.tam });
  const cut = examples.filter((e) => e.truncated).length;
  if (cut) r.event({ stage: 'tam', task, kind: 'info', message: `${cut} of ${examples.length} training examples ${cutTo(ctx)}` });
  r.event({ stage: 'tam', task, kind: 'start', examples: examples.length });
  const res = await trainLora({ model: ctx.base, examples, config, outDir: ctx.layout.tam, name: 'TAM', padId: ctx.codec.padId, onStep: stepReporter(r, 'tam', task) });
  disposeAdapter(res.adapter);
  r.event({ stage: 'tam', task, kind: 'done' });
}

/** How training examples are cut, for the messages that count them. */
function cutTo(ctx: StageContext): string {
  return `cut to ${ctx.codec.cutoff} tokens a part or ${ctx.codec.maxLength} in all (the model's context)`;
}

/** Runs one per-user stage for user `i` (skipping finished work); a failure names the task, stage and user. */
export async function runUserStage(ctx: StageContext, stage: UserStage, i: number, r: Reporter): Promise<void> {
  try {
    await runUserStageOf(ctx, stage, i, r);
  } catch (e) {
    throw new Error(`${ctx.taskName} ${stage}, user_${i} (${userKey(ctx.users[i])}): ${(e as Error).message}`, { cause: e });
  }
}

async function runUserStageOf(ctx: StageContext, stage: UserStage, i: number, r: Reporter): Promise<void> {
  const task = ctx.taskName;
  const user = ctx.users[i];
  const L = ctx.layout;
  await loadTam(ctx);
  switch (stage) {
    case 'sft': {
      if (await isFinished(L.oppu(i))) return r.event({ stage, task, user: i, kind: 'skip' });
      const examples = ctx.codec.oppuExamples(user);
      const cut = user.profile.filter((_, k) => examples[k].truncated).map((p) => p.id);
      if (cut.length) {
        r.event({ stage, task, user: i, kind: 'info', message: `${userKey(user)}: ${cut.length} of ${examples.length} profile items ${cutTo(ctx)}: ${cut.slice(0, 10).join(', ')}${cut.length > 10 ? ', …' : ''}` });
      }
      const config = resolveSftConfig('oppu', { seed: ctx.config.seed + i, ...ctx.config.oppu });
      const res = await trainLora({ model: ctx.tamModel!, examples, config, outDir: L.oppu(i), name: `user_${i}`, padId: ctx.codec.padId, onStep: stepReporter(r, stage, task, i) });
      disposeAdapter(res.adapter);
      break;
    }
    case 'negatives': {
      const n = ctx.config.negatives;
      await runPerUser(L.negativesParts, [i], (k) => sampleUserNegatives(taskContext(ctx), ctx.users[k], k, { n: n.n, temperature: n.temperature, topP: n.topP, maxNewTokens: n.maxNewTokens, repetitionPenalty: n.repetitionPenalty, seed: ctx.config.seed }),
        (_k, skipped) => skipped && r.event({ stage, task, user: i, kind: 'skip' }));
      break;
    }
    case 'score': {
      const mode = ctx.config.score.selection;
      const parts = L.selectedParts(mode);
      if (await exists(path.join(parts, `user_${i}.json`))) return r.event({ stage, task, user: i, kind: 'skip' });
      const withNeg = await readUserPart(path.join(L.negativesParts, `user_${i}.json`), task, 'negatives');
      const adapter = await loadLoraAdapter(ctx.tamModel!, L.oppu(i), `user_${i}`);
      try {
        await runPerUser(parts, [i], async () => {
          const s = await scoreUserNegatives(taskContext(ctx), adapter, withNeg, { mode: ctx.config.score.mode, selection: mode });
          if (s.itemsWithoutCandidates.length) r.event({ stage, task, user: i, kind: 'info', message: `items without candidates (no negative_response): ${s.itemsWithoutCandidates.join(', ')}` });
          return s.user;
        });
      } finally {
        disposeAdapter(adapter);
      }
      break;
    }
    case 'dpo': {
      if (await isFinished(L.dpo(i))) return r.event({ stage, task, user: i, kind: 'skip' });
      const scored = await readUserPart(path.join(L.selectedParts(ctx.config.score.selection), `user_${i}.json`), task, 'selected');
      const triples = scored.profile
        .filter((item) => typeof item.negative_response === 'string')
        .map((raw) => ctx.codec.dpoTriple(raw as Record<string, unknown>, String(raw.negative_response)));
      const adapter = await loadLoraAdapter(ctx.tamModel!, L.oppu(i), `user_${i}`);
      adapter.config.dropout = 0.05;
      const config = resolveDpoConfig({ seed: ctx.config.seed + i, ...ctx.config.dpo });
      const res = await trainDpo({ model: ctx.tamModel!, adapter, triples, config, outDir: L.dpo(i), onStep: stepReporter(r, stage, task, i) });
      disposeAdapter(res.adapter);
      if (res.adapter !== adapter) disposeAdapter(adapter);
      break;
    }
    case 'decode': {
      // The methods decode the same query batches and all run the TAM model bare (the TAM baseline) or as the
      // amateur: it reads each batch's prompt once.
      const promptCache = new PromptCache();
      try {
        for (const output of decodeOutputs(ctx.config)) await decodeUser(ctx, output, i, r, promptCache);
      } finally {
        promptCache.dispose();
      }
      break;
    }
  }
  r.event({ stage, task, user: i, kind: 'done' });
}

/**
 * Greedy or contrastive decoding of one user's queries with one method's adapter; a sampling run samples
 * instead, seeded by the run seed, the user and the run number (so workers and shards agree).
 */
async function decodeUser(ctx: StageContext, output: DecodeOutput, i: number, r: Reporter, promptCache: PromptCache): Promise<void> {
  const L = ctx.layout;
  const { method, run } = output;
  const partFile = path.join(L.outputParts(output.name), `user_${i}.json`);
  if (await exists(partFile)) return;
  const spec = TASKS[ctx.taskName];
  const d = ctx.config.decode;
  let adapter: LoraAdapter | null = null;
  if (method === 'OPPU' || method === 'OPPU+CD') adapter = await loadLoraAdapter(ctx.tamModel!, L.oppu(i), `user_${i}`);
  if (method === 'OPPU+DPO' || method === 'CoPe') adapter = await loadLoraAdapter(ctx.tamModel!, L.dpo(i), `user_${i}`);
  const rp = spec.long ? d.repetitionPenalty : 1;
  const sampling = run !== undefined && d.sampling
    ? { doSample: true, temperature: d.sampling.temperature, topK: d.sampling.topK, topP: d.sampling.topP }
    : { doSample: false };
  const decoder = method === 'OPPU+CD' || method === 'CoPe'
    ? contrastiveDecoder({ contrastiveAlpha: d.contrastiveAlpha, plausibility: d.plausibility, masked: d.masked, repetitionPenalty: rp, ...sampling })
    : plainDecoder({ repetitionPenalty: rp, ...sampling });
  const rng = new Rng(SEEDS.decoding(ctx.config.seed, i, run));
  const queries = ctx.users[i].query;
  const outputs: Array<{ id: string; output: string }> = [];
  try {
    for (let k = 0; k < queries.length; k += d.batchSize) {
      const batch = queries.slice(k, k + d.batchSize);
      const prompts = batch.map((q) => ctx.codec.queryIds(q.input));
      const res = await generate(ctx.tamModel!, prompts, {
        maxNewTokens: d.maxNewTokens ?? spec.maxNewTokens,
        decoder,
        adapter,
        eosTokenIds: ctx.eosTokenIds,
        padTokenId: ctx.codec.padId,
        rng,
        promptCache,
      });
      const contrastive = method === 'OPPU+CD' || method === 'CoPe';
      res.forEach((g, j) => outputs.push({ id: String(batch[j].id), output: outputText(ctx.tokenizer, spec, prompts[j], g.ids, contrastive, d.outputText) }));
    }
  } finally {
    if (adapter) disposeAdapter(adapter);
  }
  await fs.mkdir(L.outputParts(output.name), { recursive: true });
  await writeFileAtomic(partFile, JSON.stringify(outputs));
  r.event({ stage: 'decode', task: ctx.taskName, user: i, kind: 'info', method: output.name });
}

/**
 * Joins per-user parts into CoPe's files once every user of the run has them: the pseudo-negative
 * files, the selected-negative file, and one predictions file per method.
 */
export async function assembleOutputs(ctx: TaskData, allUsers: number[]): Promise<boolean> {
  const L = ctx.layout;
  const n = allUsers.length;
  const have = async (dir: string) => (await Promise.all(allUsers.map((i) => exists(path.join(dir, `user_${i}.json`))))).every(Boolean);
  const outputs = decodeOutputs(ctx.config);
  if (!(await have(L.outputParts(outputs[0].name)))) return false;
  const withRest = (parts: UserRecord[]) => parts.concat(ctx.users.slice(n));
  if (await have(L.negativesParts)) await writeFileAtomic(L.negatives, JSON.stringify(withRest(await assembleParts<UserRecord>(L.negativesParts, n)), null, 1) + '\n');
  const sel = ctx.config.score.selection;
  if (await have(L.selectedParts(sel))) await writeFileAtomic(L.selected(sel), JSON.stringify(withRest(await assembleParts<UserRecord>(L.selectedParts(sel), n)), null, 1) + '\n');
  for (const { name } of outputs) {
    const parts = await assembleParts<Array<{ id: string; output: string }>>(L.outputParts(name), n);
    await writeFileAtomic(L.output(name), JSON.stringify({ task: TASKS[ctx.taskName].lampId, golds: parts.flat(), model: name }, null, 1) + '\n');
  }
  return true;
}

type Scores = { 'rouge-1': number; 'rouge-L': number; meteor: number };

export interface MethodResult extends Scores {
  /** The predictions file's name: a method, `<method>-sampling-run_<n>`, or `<method>-sampling-mean` (the runs' mean). */
  method: string;
  perUser: Array<{ user: number } & Scores>;
}

const METRICS = ['rouge-1', 'rouge-L', 'meteor'] as const;

/** The mean of several results (sampling runs), user by user. */
function meanResult(name: string, runs: MethodResult[]): MethodResult {
  const mean = (f: (r: MethodResult) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  const scores = (f: (r: MethodResult) => Scores) => Object.fromEntries(METRICS.map((k) => [k, mean((r) => f(r)[k])])) as Scores;
  return { method: name, ...scores((r) => r), perUser: runs[0].perUser.map((u, j) => ({ user: u.user, ...scores((r) => r.perUser[j]) })) };
}

/** Scores every predictions file of the run against the labels of its users; writes results.json. */
export async function evaluateOutputs(ctx: TaskData, allUsers: number[]): Promise<MethodResult[]> {
  if (!ctx.labels) throw new Error(`${ctx.config.dataDir}/${ctx.taskName}/user_top_100_history_label.json: needed for eval`);
  const spec = TASKS[ctx.taskName];
  const ids = new Set(allUsers.flatMap((i) => ctx.users[i].query.map((q) => String(q.id))));
  const golds = { task: spec.lampId, golds: ctx.labels.golds.filter((g) => ids.has(String(g.id))) };
  const results: MethodResult[] = [];
  const outputs = decodeOutputs(ctx.config);
  for (const { name } of outputs) {
    const file = ctx.layout.output(name);
    const preds = JSON.parse(await fs.readFile(file, 'utf8'));
    const res = evaluateLamp(spec.lampId as LampTaskId, golds, preds, { perExample: true, goldsFile: 'labels', predsFile: file });
    const byId = new Map(res.examples!.map((e) => [e.id, e]));
    const perUser = allUsers.map((i) => {
      const ex = ctx.users[i].query.map((q) => byId.get(String(q.id))!);
      const mean = (k: 'rouge-1' | 'rouge-L' | 'meteor') => ex.reduce((a, e) => a + e[k], 0) / Math.max(1, ex.length);
      return { user: i, 'rouge-1': mean('rouge-1'), 'rouge-L': mean('rouge-L'), meteor: mean('meteor') };
    });
    preds.results = { 'rouge-1': res['rouge-1'], 'rouge-L': res['rouge-L'], meteor: res.meteor };
    await writeFileAtomic(file, JSON.stringify(preds, null, 1) + '\n');
    results.push({ method: name, 'rouge-1': res['rouge-1'], 'rouge-L': res['rouge-L'], meteor: res.meteor, perUser });
  }
  if (ctx.config.decode.sampling) {
    for (const method of ctx.config.methods) {
      const runs = results.filter((_, k) => outputs[k].method === method);
      results.push(meanResult(`${method}-sampling-mean`, runs));
    }
  }
  // Files evaluated earlier (e.g. by a full run before a single `cope decode`) stay in results.json, in
  // method order: greedy, then sampling runs, then their mean.
  let previous: MethodResult[] = [];
  try {
    const old = JSON.parse(await fs.readFile(ctx.layout.results, 'utf8'));
    if (old.users === allUsers.length) previous = old.results ?? [];
  } catch {
    previous = [];
  }
  const byName = new Map<string, MethodResult>();
  for (const r of [...previous, ...results]) byName.set(r.method, r);
  const rank = (name: string) => {
    const m = METHODS.findIndex((x) => name === x || name.startsWith(`${x}-`));
    const run = /-sampling-run_(\d+)$/.exec(name);
    return m * 1e6 + (name === METHODS[m] ? 0 : run ? Number(run[1]) : 999_999);
  };
  const merged = [...byName.values()].sort((a, b) => rank(a.method) - rank(b.method));
  await writeFileAtomic(ctx.layout.results, JSON.stringify({ task: ctx.taskName, lampId: spec.lampId, users: allUsers.length, results: merged }, null, 1) + '\n');
  return results;
}
