import { parentPort, workerData } from 'node:worker_threads';
import { closeTask, openTask } from './context.js';
import type { RunConfig } from './config.js';
import type { WorkerJob } from './run.js';
import { runTam, runUserStage } from './stages.js';

/** A worker thread: its own tfjs backend, runs the given stages (TAM, per-user stages for its users) and reports back. */
interface Job extends WorkerJob {
  config: RunConfig;
}

async function main(): Promise<void> {
  const job = workerData as Job;
  const ctx = await openTask(job.config, job.task, { index: 0, count: 1 });
  const reporter = { event: (e: object) => parentPort!.postMessage({ type: 'event', event: e }) };
  try {
    if (job.stages.includes('tam')) await runTam(ctx, reporter);
    for (const i of job.users) for (const s of job.stages) if (s !== 'tam') await runUserStage(ctx, s, i, reporter);
  } finally {
    closeTask(ctx);
  }
}

main().then(
  () => parentPort!.postMessage({ type: 'done' }),
  (e) => parentPort!.postMessage({ type: 'error', message: (e as Error).message }),
);
