import path from 'node:path';
import { readOtherUsers } from '@cope/data';
import { backendChoiceNote, backendThreads, currentBackend, initBackend, modelFloat32Bytes } from '@cope/model';
import { assembleOutputs } from './assemble.js';
import { parseShard, type RunConfig, type Shard } from './config.js';
import { closeTask, openTask, readTaskData, type TaskData } from './context.js';
import { evaluateOutputs, type MethodResult } from './evaluate.js';
import type { Reporter } from './events.js';
import { RunStore } from './run-store.js';
import { USER_STAGES, type StageName } from './stage-names.js';
import { runTam, runUserStage } from './stages/index.js';
import { packageVersions } from './versions.js';
import { WorkerPool } from './worker-pool.js';

/** Adds this invocation to the run's manifest: resolved config, seed, package versions (with the caller's), backend. */
async function writeManifest(store: RunStore, config: RunConfig, callerVersions: Record<string, string>): Promise<void> {
  const versions = { ...packageVersions(), ...callerVersions };
  await store.appendManifest({ config, seed: config.seed, versions, backend: currentBackend(), node: process.version });
}

/** How a run goes beyond its config. */
export interface RunOptions {
  /** Delete and make again results made with other settings (refused otherwise). */
  redo?: boolean;
  /** Versions of the calling tool's packages, recorded in the manifest beside the pipeline's (e.g. `{ '@cope/cli': '0.1.0' }`). */
  versions?: Record<string, string>;
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
export async function runPipeline(config: RunConfig, stages: StageName[], reporter: Reporter, opts: RunOptions = {}): Promise<RunSummary[]> {
  const shard = parseShard(config.shard);
  await checkTaskData(config, stages);
  const store = new RunStore(config.runDir);
  const lock = await store.lock();
  try {
    await store.checkStageSettings(config, stages, opts.redo);
    const manifest = () => writeManifest(store, config, opts.versions ?? {});
    return config.workers > 1 ? await runInWorkerPool(config, stages, shard, reporter, manifest) : await runInProcess(config, stages, shard, reporter, manifest);
  } finally {
    await lock.release();
  }
}

async function runInProcess(config: RunConfig, stages: StageName[], shard: Shard, reporter: Reporter, writeManifest: () => Promise<void>): Promise<RunSummary[]> {
  const summaries: RunSummary[] = [];
  for (const [k, task] of config.tasks.entries()) {
    const ctx = await openTask(config, task, shard);
    if (k === 0) await writeManifest();
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
async function checkTaskData(config: RunConfig, stages: StageName[]): Promise<void> {
  for (const task of config.tasks) {
    await readTaskData(config, task, { index: 0, count: 1 });
    if (stages.includes('tam')) await readOtherUsers(path.join(config.dataDir, task), task);
  }
}

/** Assembles a task's outputs when every user has them, and evaluates them when asked to. */
async function finishTask(data: TaskData, stages: StageName[]): Promise<RunSummary> {
  let complete = false;
  let results: MethodResult[] | undefined;
  if (stages.includes('eval') || stages.includes('decode')) {
    complete = await assembleOutputs(data);
    if (complete && stages.includes('eval')) results = await evaluateOutputs(data);
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
async function runInWorkerPool(config: RunConfig, stages: StageName[], shard: Shard, reporter: Reporter, writeManifest: () => Promise<void>): Promise<RunSummary[]> {
  await initBackend(config.backend, { threads: config.threads, modelBytes: await modelFloat32Bytes(config.model) });
  await writeManifest();
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
