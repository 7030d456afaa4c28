import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RunConfig } from './config.js';
import type { Reporter } from './events.js';
import type { UserStage } from './stage-names.js';

/** One job for a worker thread (worker.ts): a task's TAM, or per-user stages for some of its users. */
export interface WorkerJob {
  task: RunConfig['tasks'][number];
  stages: Array<'tam' | UserStage>;
  users: number[];
}

/** What a worker thread starts with: the run's config, its backend threads set to the worker's share. */
export interface WorkerSetup {
  config: RunConfig;
}

/** Lexicographic order of job keys: lower runs first. */
function before(a: readonly number[], b: readonly number[]): boolean {
  for (let k = 0; k < Math.min(a.length, b.length); k++) if (a[k] !== b[k]) return a[k] < b[k];
  return a.length < b.length;
}

interface Queued {
  job: WorkerJob;
  key: readonly number[];
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Worker threads that stay up for a whole run, each with its own backend and its task's models loaded, and
 * take the waiting job with the lowest key whenever one is free. A failed job fails every job not yet done
 * (and {@link failed}): finished work is on disk, so a rerun resumes after it.
 */
export class WorkerPool {
  private readonly queue: Queued[] = [];
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly running = new Map<Worker, Queued>();
  private error?: Error;
  private closed = false;
  private signalFailure!: (e: Error) => void;
  /** Rejects with the first failure. */
  readonly failed: Promise<never>;

  /** `threads`: wasm backend threads of each worker. */
  constructor(private readonly config: RunConfig, private readonly size: number, threads: number, private readonly reporter: Reporter) {
    this.config = { ...config, threads };
    this.failed = new Promise<never>((_, reject) => (this.signalFailure = reject));
    this.failed.catch(() => undefined);
  }

  /** Runs `job` when a worker is free and no waiting job has a lower key. */
  run(job: WorkerJob, key: readonly number[]): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    return new Promise<void>((resolve, reject) => {
      const at = this.queue.findIndex((q) => before(key, q.key));
      this.queue.splice(at < 0 ? this.queue.length : at, 0, { job, key, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker (their jobs, if any, fail). */
  async close(): Promise<void> {
    this.closed = true;
    this.fail(new Error('worker pool closed'));
    await Promise.all(this.all.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length && !this.error) {
      const worker = this.idle.pop() ?? (this.all.length < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const next = this.queue.shift()!;
      this.running.set(worker, next);
      worker.postMessage(next.job);
    }
  }

  private spawn(): Worker {
    const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');
    const worker = new Worker(script, { workerData: { config: this.config } satisfies WorkerSetup });
    const w = this.all.push(worker) - 1;
    worker.on('message', (m: { type: string; event?: Parameters<Reporter['event']>[0]; message?: string }) => {
      if (m.type === 'event') return this.reporter.event(m.event!);
      const job = this.running.get(worker);
      this.running.delete(worker);
      if (m.type === 'done') {
        job?.resolve();
        this.idle.push(worker);
        this.dispatch();
      } else {
        const e = new Error(m.message);
        job?.reject(e);
        this.fail(e);
      }
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`worker ${w} exited with code ${code}`));
    });
    return worker;
  }

  /** Fails the running and waiting jobs with the first error. */
  private fail(e: Error): void {
    if (this.error) return;
    this.error = e;
    for (const q of [...this.running.values(), ...this.queue.splice(0)]) q.reject(e);
    this.running.clear();
    if (!this.closed) this.signalFailure(e);
  }
}
