import type { StepLog } from '@cope/sft';

/** One progress event of a run: a stage of a task (and user) starting, stepping, finishing, skipped, or a message. */
export interface PipelineEvent {
  stage: string;
  task: string;
  user?: number;
  kind: 'start' | 'step' | 'done' | 'skip' | 'info';
  [k: string]: unknown;
}

/** Receives progress events; the CLI renders them as bars on a terminal, JSON lines otherwise. */
export interface Reporter {
  event(e: PipelineEvent): void;
}

/** A trainer's `onStep` that reports each step's loss as a `step` event. */
export const stepReporter = (r: Reporter, stage: string, task: string, user?: number) => (l: StepLog) =>
  r.event({ stage, task, user, kind: 'step', step: l.step, total: l.totalSteps, loss: l.loss, tokensPerSecond: l.tokensPerSecond });
