import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendChoiceNote, backendThreads, currentBackend, initBackend, modelFloat32Bytes } from '@cope/model';
import { appendManifest, checkStageSettings, lockRunFolder, type StageName as PipelineStage } from './run-store.js';
import { parseShard, type RunConfig } from './config.js';
import { closeTask, openTask, readOtherUsers, readTaskData, type TaskData } from './context.js';
import { assembleOutputs, evaluateOutputs, runTam, runUserStage, USER_STAGES, type MethodResult, type Reporter } from './stages.js';
import { WorkerPool } from './worker-pool.js';

const PACKAGES = ['data', 'model', 'sft', 'dpo', 'decoding', 'negatives', 'metrics', 'cli'];

/** Adds this invocation to the run's manifest: resolved config, seed, package versions, backend. */
export async function writeManifest(config: RunConfig): Promise<void> {
  const require = createRequire(import.meta.url);
  const versions: Record<string, string> = {};
  for (const p of PACKAGES) {
    try {
      versions[`@cope/${p}`] = require(`@cope/${p}/package.json`).version;
    } catch {
      versions[`@cope/${p}`] = 'unknown';
    }
  }
  if (!versions['@cope/cli'] || versions['@cope/cli'] === 'unknown') {
    versions['@cope/cli'] = JSON.parse(await fs.readFile(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8')).version;
  }
  await appendManifest(config.runDir, { config, seed: config.seed, versions, backend: currentBackend(), node: process.version });
}

export interface RunSummary {
  task: string;
  complete: boolean;
  results?: MethodResult[];
}


/**
 * Runs stages of the pipeline for every task: TAM, then the per-user stages, then, when every user's
 * outputs exist, assembly and evaluation. Finished work is skipped, so a run killed at any point resumes
 * where it was; the run folder is locked while it runs, and its results are reused only when they were made
 * with the current settings (`redo`: made again when they were not). With `workers` > 1 the TAMs and users of
 * all tasks are jobs for one pool of worker threads.
 */
export async function runPipeline(config: RunConfig, stages: PipelineStage[], reporter: Reporter, opts: { redo?: boolean } = {}): Promise<RunSummary[]> {
  const shard = parseShard(config.shard);
  await checkTaskData(config, stages);
  const lock = await lockRunFolder(config.runDir);
  try {
    await checkStageSettings(config, stages, opts.redo);
    return config.workers > 1 ? await runInWorkerPool(config, stages, shard, reporter) : await runInProcess(config, stages, shard, reporter);
  } finally {
    await lock.release();
  }
}

async function runInProcess(config: RunConfig, stages: PipelineStage[], shard: { index: number; count: number }, reporter: Reporter): Promise<RunSummary[]> {
  const summaries: RunSummary[] = [];
  for (const [k, task] of config.tasks.entries()) {
    const ctx = await openTask(config, task, shard);
    if (k === 0) await writeManifest(config);
    reporter.event({ stage: 'run', task, kind: 'start', users: ctx.userIndices.length, stages: USER_STAGES.filter((s) => stages.includes(s)) });
    reporter.event({ stage: 'run', task, kind: 'info', message: `backend ${currentBackend()}${backendThreads() ? ` (${backendThreads()} threads)` : ''}${backendChoiceNote() ? ` [${backendChoiceNote()}]` : ''}, ${ctx.userIndices.length} users in this process` });
    try {
      if (stages.includes('tam')) await runTam(ctx, reporter);
      const userStages = USER_STAGES.filter((s) => stages.includes(s));
      for (const i of ctx.userIndices) for (const s of userStages) await runUserStage(ctx, s, i, reporter);
      summaries.push(await finishTask(ctx, stages));
    } finally {
      closeTask(ctx);
    }
  }
  return summaries;
}

/** Reads and validates every task's data files before any work, so a bad file of the last task stops the run at once. */
async function checkTaskData(config: RunConfig, stages: PipelineStage[]): Promise<void> {
  for (const task of config.tasks) {
    await readTaskData(config, task, { index: 0, count: 1 });
    if (stages.includes('tam')) await readOtherUsers(path.join(config.dataDir, task), task);
  }
}

/** Assembles a task's outputs when every user has them, and evaluates them when asked to. */
async function finishTask(data: TaskData, stages: PipelineStage[]): Promise<RunSummary> {
  const all = Array.from({ length: Math.min(data.users.length, data.config.maxUsers ?? data.users.length) }, (_, i) => i);
  let complete = false;
  let results: MethodResult[] | undefined;
  if (stages.includes('eval') || stages.includes('decode')) {
    complete = await assembleOutputs(data, all);
    if (complete && stages.includes('eval')) results = await evaluateOutputs(data, all);
  }
  return { task: data.taskName, complete, results };
}

/**
 * The run as jobs for a pool of worker threads: each task's TAM, then (once it is trained) one job per user
 * for the per-user stages. Free workers take a waiting job of the earliest task first (its TAM before its
 * users), so tasks finish in order and each is assembled and evaluated here while the workers go on; the
 * next tasks' TAMs fill the workers a task's last users leave idle. Each job's results do not depend on
 * which worker runs it or when (tested against a single process).
 */
async function runInWorkerPool(config: RunConfig, stages: PipelineStage[], shard: { index: number; count: number }, reporter: Reporter): Promise<RunSummary[]> {
  await initBackend(config.backend, { threads: config.threads, modelBytes: await modelFloat32Bytes(config.model) });
  await writeManifest(config);
  const tasks = await Promise.all(config.tasks.map((task) => readTaskData(config, task, shard)));
  const userStages = USER_STAGES.filter((s) => stages.includes(s));
  const jobs = (stages.includes('tam') ? 1 : 0) * tasks.length + (userStages.length ? tasks.reduce((a, t) => a + t.userIndices.length, 0) : 0);
  const n = Math.max(1, Math.min(config.workers, jobs));
  // The workers share the CPUs: each backend gets its part of the main process's threads.
  const threads = Math.max(1, Math.floor((config.threads ?? backendThreads() ?? 1) / n));
  const what = [...(stages.includes('tam') ? ['TAM'] : []), ...userStages].join(', ');
  reporter.event({
    stage: 'run', task: config.tasks.join(', '), kind: 'info',
    message: `${what} of ${config.tasks.join(', ')} in ${n} worker threads (${tasks.map((t) => t.userIndices.length).join(' + ')} users; backend ${currentBackend()}${backendChoiceNote() ? ` [${backendChoiceNote()}]` : ''}, ${threads} thread${threads > 1 ? 's' : ''} each)`,
  });
  for (const t of tasks) reporter.event({ stage: 'run', task: t.taskName, kind: 'start', users: t.userIndices.length, stages: userStages });
  const pool = new WorkerPool(config, n, threads, reporter);
  try {
    const done = tasks.map(async (t, k) => {
      if (stages.includes('tam')) await pool.run({ task: t.taskName, stages: ['tam'], users: [] }, [k, 0]);
      if (userStages.length) await Promise.all(t.userIndices.map((i) => pool.run({ task: t.taskName, stages: userStages, users: [i] }, [k, 1, i])));
    });
    for (const d of done) d.catch(() => undefined); // each is awaited below, or the pool's failure is
    const summaries: RunSummary[] = [];
    for (const [k, t] of tasks.entries()) {
      await Promise.race([done[k], pool.failed]);
      summaries.push(await finishTask(t, stages));
    }
    return summaries;
  } finally {
    await pool.close();
  }
}

/** A plain-text metrics table (what `cope run` prints at the end). */
export function metricsTable(summaries: RunSummary[]): string {
  const lines: string[] = [];
  for (const s of summaries) {
    if (!s.results) {
      lines.push(`${s.task}: not complete in this run folder${s.complete ? '' : ' (other shards pending? use cope merge)'}`);
      continue;
    }
    const w = Math.max(10, ...s.results.map((r) => r.method.length));
    lines.push(`${s.task}`, `  ${'method'.padEnd(w)} ${'ROUGE-1'.padStart(8)} ${'ROUGE-L'.padStart(8)} ${'METEOR'.padStart(8)}`);
    for (const r of s.results) lines.push(`  ${r.method.padEnd(w)} ${r['rouge-1'].toFixed(4).padStart(8)} ${r['rouge-L'].toFixed(4).padStart(8)} ${r.meteor.toFixed(4).padStart(8)}`);
  }
  return lines.join('\n');
}
