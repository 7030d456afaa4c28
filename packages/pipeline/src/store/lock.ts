import { promises as fs } from 'node:fs';
import os from 'node:os';

/** A held run-folder lock; `release` removes it. */
export interface RunLock {
  file: string;
  release(): Promise<void>;
}

/** Whether process `pid` runs on this machine (signal 0 checks without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `runDir/.lock` for this process, so a second run on the same folder refuses at once instead of doing the
 * same work and interleaving its files. A lock left by a process of this machine that no longer runs (killed) is
 * taken over; one from another machine is refused, naming it (remove the file if that run is gone).
 */
export async function lockRunFolder(runDir: string, file: string): Promise<RunLock> {
  await fs.mkdir(runDir, { recursive: true });
  const mine = JSON.stringify({ pid: process.pid, host: os.hostname(), started: new Date().toISOString() }) + '\n';
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(file, mine, { flag: 'wx' });
      return { file, release: () => fs.rm(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: { pid?: number; host?: string; started?: string } = {};
    try {
      holder = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch {
      // Unreadable (being written, or damaged): treated as held by an unknown process.
    }
    const here = holder.host === os.hostname();
    if (here && typeof holder.pid === 'number' && !alive(holder.pid)) {
      await fs.rm(file, { force: true });
      continue;
    }
    throw new Error(`${runDir}: in use by process ${holder.pid ?? '?'} on ${holder.host ?? '?'} since ${holder.started ?? '?'} (${file}); wait for that run, or delete the file if it is gone`);
  }
  throw new Error(`${file}: could not take the lock`);
}

