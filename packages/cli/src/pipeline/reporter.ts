import cliProgress from 'cli-progress';
import type { Reporter } from './stages.js';

/** JSON-lines progress (for logs and non-terminals), one object per event. */
export function jsonReporter(write: (line: string) => void): Reporter {
  return { event: (e) => write(JSON.stringify({ time: new Date().toISOString(), ...e })) };
}

/**
 * Progress bars on a terminal: one bar per running stage (per user for per-user stages) with ETA,
 * plus one overall bar per task.
 */
export function terminalReporter(): Reporter & { stop(): void } {
  const multi = new cliProgress.MultiBar({ format: ' {label} [{bar}] {value}/{total} {extra} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_grey);
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    event(e) {
      const key = `${e.task}:${e.stage}${e.user !== undefined ? `:${e.user}` : ''}`;
      const label = `${e.task} ${e.stage}${e.user !== undefined ? ` user_${e.user}` : ''}`.padEnd(32);
      if (e.kind === 'step') {
        let bar = bars.get(key);
        if (!bar) bars.set(key, (bar = multi.create(Number(e.total), 0, { label, extra: '' })));
        bar.update(Number(e.step), { label, extra: `loss ${Number(e.loss).toFixed(3)}` });
      } else if (e.kind === 'done' || e.kind === 'skip') {
        const bar = bars.get(key);
        if (bar) bar.stop();
        else multi.log(`${label} ${e.kind === 'skip' ? 'already done' : 'done'}\n`);
      } else if (e.kind === 'info' && e.message) {
        multi.log(`${label} ${String(e.message)}\n`);
      }
    },
    stop: () => multi.stop(),
  };
}
