import cliProgress from 'cli-progress';
import type { Reporter } from '@cope/pipeline';

/** JSON-lines progress (for logs and non-terminals), one object per event. */
export function jsonReporter(write: (line: string) => void): Reporter {
  return { event: (e) => write(JSON.stringify({ time: new Date().toISOString(), ...e })) };
}

/** Progress of one task's users: a user is done when the last per-user stage of the run is. */
interface TaskProgress {
  bar: cliProgress.SingleBar;
  total: number;
  lastStage: string;
  done: Set<number>;
}

export interface TerminalReporter extends Reporter {
  stop(): void;
  /** Labels of the bars on screen, in creation order (for tests). */
  bars(): string[];
}

/**
 * Progress bars on a terminal: one bar per task (users done / total, ETA) and one per running training job
 * (steps and loss, ETA), each removed when it is done; finished stages and messages are logged above them.
 */
export function terminalReporter(opts: { stream?: NodeJS.WritableStream } = {}): TerminalReporter {
  const multi = new cliProgress.MultiBar({
    format: ' {label} [{bar}] {value}/{total} {extra} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false,
    stream: opts.stream, noTTYOutput: opts.stream !== undefined,
  }, cliProgress.Presets.shades_grey);
  const jobs = new Map<string, cliProgress.SingleBar>();
  const tasks = new Map<string, TaskProgress>();
  const labels = new Map<cliProgress.SingleBar, string>();
  const create = (label: string, total: number, extra: string) => {
    const bar = multi.create(total, 0, { label: label.padEnd(32), extra });
    labels.set(bar, label);
    return bar;
  };
  const remove = (bar: cliProgress.SingleBar) => {
    multi.remove(bar);
    labels.delete(bar);
  };
  return {
    event(e) {
      const key = `${e.task}:${e.stage}${e.user !== undefined ? `:${e.user}` : ''}`;
      const label = `${e.task} ${e.stage}${e.user !== undefined ? ` user_${e.user}` : ''}`;
      if (e.stage === 'run' && e.kind === 'start') {
        const stages = e.stages as string[];
        if (stages.length && Number(e.users) > 0) {
          tasks.set(e.task, { bar: create(`${e.task} users`, Number(e.users), stages.join(', ')), total: Number(e.users), lastStage: stages[stages.length - 1], done: new Set() });
        }
      } else if (e.kind === 'step') {
        let bar = jobs.get(key);
        if (!bar) jobs.set(key, (bar = create(label, Number(e.total), '')));
        bar.update(Number(e.step), { extra: `loss ${Number(e.loss).toFixed(3)}` });
      } else if (e.kind === 'done' || e.kind === 'skip') {
        const bar = jobs.get(key);
        if (bar) {
          remove(bar);
          jobs.delete(key);
        }
        if (e.user === undefined) multi.log(`${label} ${e.kind === 'skip' ? 'already done' : 'done'}\n`);
        const t = tasks.get(e.task);
        if (t && e.user !== undefined && e.stage === t.lastStage) {
          t.done.add(e.user);
          t.bar.update(t.done.size);
          if (t.done.size === t.total) {
            remove(t.bar);
            tasks.delete(e.task);
            multi.log(`${e.task}: ${t.total} users done\n`);
          }
        }
      } else if (e.kind === 'info' && e.message) {
        multi.log(`${label} ${String(e.message)}\n`);
      }
    },
    stop: () => {
      // Messages logged since the last redraw are written by a redraw; stop alone would drop them.
      multi.update();
      multi.stop();
    },
    bars: () => [...labels.values()],
  };
}
