import { parentPort, workerData } from 'node:worker_threads';
import { heapExhaustionNote } from '@cope/model';
import { openTask, switchTask, type StageContext } from './context.js';
import { runTam, runUserStage } from './stages/index.js';
import type { WorkerJob, WorkerSetup } from './worker-pool.js';

/**
 * A worker thread of a {@link WorkerPool}: its own tfjs backend; runs the jobs it is sent one at a time
 * (a task's TAM, or per-user stages) and reports events back. The base model stays loaded across jobs and
 * tasks, and a task's TAM model across that task's jobs.
 */
const { config } = workerData as WorkerSetup;
const reporter = { event: (e: object) => parentPort!.postMessage({ type: 'event', event: e }) };
const single = { index: 0, count: 1 };
let ctx: StageContext | undefined;

async function runJob(job: WorkerJob): Promise<void> {
  ctx = ctx ? await switchTask(ctx, job.task, single) : await openTask(config, job.task, single);
  if (job.stages.includes('tam')) await runTam(ctx, reporter);
  for (const i of job.users) for (const s of job.stages) if (s !== 'tam') await runUserStage(ctx, s, i, reporter);
}

parentPort!.on('message', (job: WorkerJob) => {
  runJob(job).then(
    () => parentPort!.postMessage({ type: 'done' }),
    (e) => parentPort!.postMessage({ type: 'error', message: `${(e as Error).message}${heapExhaustionNote()}` }),
  );
});
