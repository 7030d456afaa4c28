import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { backendThreads, currentBackend, writeFileAtomic } from '@cope/model';
import { parseShard, type RunConfig } from './config.js';
import { closeTask, openTask } from './context.js';
import { assembleOutputs, evaluateOutputs, runTam, runUserStage, USER_STAGES, type MethodResult, type Reporter, type UserStage } from './stages.js';

const PACKAGES = ['data', 'model', 'sft', 'dpo', 'decoding', 'negatives', 'metrics', 'cli'];

/** Writes the run's manifest: resolved config, seed, package versions, backend. */
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
  await writeFileAtomic(path.join(config.runDir, 'manifest.json'), JSON.stringify({ config, seed: config.seed, versions, backend: currentBackend(), node: process.version }, null, 2) + '\n');
}

export interface RunSummary {
  task: string;
  complete: boolean;
  results?: MethodResult[];
}

/**
 * Runs stages of the pipeline for every task: TAM, then the per-user stages (in `workers` threads),
 * then, when every user's outputs exist, assembly and evaluation. Finished work is skipped, so a run
 * killed at any point resumes where it was. With several tasks and workers, the tasks' TAM adapters
 * (independent of each other, and each trained on one thread) are trained side by side in worker
 * threads first; the per-task loop then finds them finished.
 */
export async function runPipeline(config: RunConfig, stages: Array<'tam' | UserStage | 'eval'>, reporter: Reporter): Promise<RunSummary[]> {
  const shard = parseShard(config.shard);
  await fs.mkdir(config.runDir, { recursive: true });
  if (stages.includes('tam') && config.tasks.length > 1 && config.workers > 1) {
    await writeManifest(config);
    const n = Math.min(config.workers, config.tasks.length);
    reporter.event({ stage: 'run', task: `${config.tasks.length} tasks`, kind: 'info', message: `TAM of ${config.tasks.join(', ')} in ${n} worker threads` });
    await runWorkerJobs(config, config.tasks.map((task) => ({ task, stages: ['tam'], users: [] })), n, reporter);
  }
  const summaries: RunSummary[] = [];
  for (const task of config.tasks) {
    const ctx = await openTask(config, task, shard);
    await writeManifest(config);
    reporter.event({ stage: 'run', task, kind: 'info', message: `backend ${currentBackend()}${backendThreads() ? ` (${backendThreads()} threads)` : ''}, ${ctx.userIndices.length} users in this process${config.workers > 1 ? ` (${config.workers} workers)` : ''}` });
    try {
      if (stages.includes('tam')) await runTam(ctx, reporter);
      const userStages = USER_STAGES.filter((s) => stages.includes(s));
      if (userStages.length) {
        if (config.workers > 1 && ctx.userIndices.length > 1) await runInWorkers(config, task, userStages, ctx.userIndices, reporter);
        else for (const i of ctx.userIndices) for (const s of userStages) await runUserStage(ctx, s, i, reporter);
      }
      const all = Array.from({ length: Math.min(ctx.users.length, config.maxUsers ?? ctx.users.length) }, (_, i) => i);
      let complete = false;
      let results: MethodResult[] | undefined;
      if (stages.includes('eval') || stages.includes('decode')) {
        complete = await assembleOutputs(ctx, all);
        if (complete && stages.includes('eval')) results = await evaluateOutputs(ctx, all);
      }
      summaries.push({ task, complete, results });
    } finally {
      closeTask(ctx);
    }
  }
  return summaries;
}

async function runInWorkers(config: RunConfig, task: RunConfig['tasks'][number], stages: UserStage[], users: number[], reporter: Reporter): Promise<void> {
  const n = Math.min(config.workers, users.length);
  const jobs = Array.from({ length: n }, (_, w) => ({ task, stages, users: users.filter((_, k) => k % n === w) }));
  await runWorkerJobs(config, jobs, n, reporter);
}

/** One worker thread's work (worker.ts): stages of one task, TAM and/or per-user stages for `users`. */
export interface WorkerJob {
  task: RunConfig['tasks'][number];
  stages: Array<'tam' | UserStage>;
  users: number[];
}

/** Runs `jobs` in worker threads, at most `n` at a time; the first failure rejects. */
async function runWorkerJobs(config: RunConfig, jobs: WorkerJob[], n: number, reporter: Reporter): Promise<void> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');
  // The workers share the CPUs: each backend gets its part of the main process's threads.
  const threads = Math.max(1, Math.floor((config.threads ?? backendThreads() ?? 1) / n));
  const runJob = (job: WorkerJob, w: number) => new Promise<void>((resolve, reject) => {
    const worker = new Worker(script, { workerData: { config: { ...config, threads }, ...job } });
    worker.on('message', (m: { type: string; event?: never; message?: string }) => {
      if (m.type === 'event') reporter.event(m.event!);
      else if (m.type === 'done') resolve();
      else if (m.type === 'error') reject(new Error(m.message));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${w} exited with code ${code}`))));
  });
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, async (_, w) => {
    while (next < jobs.length) await runJob(jobs[next++], w);
  }));
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
