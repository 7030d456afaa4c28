import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runFiles } from './layout.js';

async function copyMissing(src: string, dst: string): Promise<number> {
  let n = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(src, { withFileTypes: true });
  } catch {
    return 0;
  }
  await fs.mkdir(dst, { recursive: true });
  for (const e of entries) {
    const s = path.join(src, e.name);
    const d = path.join(dst, e.name);
    if (e.isDirectory()) n += await copyMissing(s, d);
    else {
      try {
        await fs.access(d);
      } catch {
        // Copy then rename, so an interrupted merge never leaves a partial file behind.
        await fs.copyFile(s, `${d}.tmp-merge`);
        await fs.rename(`${d}.tmp-merge`, d);
        n++;
      }
    }
  }
  return n;
}

/**
 * Joins shard run folders into `target`: per-user checkpoints, per-user parts and the TAM adapter are
 * copied where the target lacks them. Assembling and evaluating is then an ordinary `cope run` over the
 * target, which finds every user done.
 */
export async function mergeRuns(target: string, shards: string[]): Promise<number> {
  let copied = 0;
  const into = runFiles(target).resultDirs;
  for (const s of shards) {
    for (const [k, from] of runFiles(s).resultDirs.entries()) copied += await copyMissing(from, into[k]);
  }
  return copied;
}
