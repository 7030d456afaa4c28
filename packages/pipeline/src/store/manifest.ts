import { writeFileAtomic } from '@cope/core';
import { promises as fs } from 'node:fs';

/** manifest.json: every invocation on this run folder, oldest first (config, versions, backend, time). */
export async function appendManifest(file: string, entry: Record<string, unknown>): Promise<void> {
  let invocations: unknown[] = [];
  try {
    const old = JSON.parse(await fs.readFile(file, 'utf8')) as { invocations?: unknown[] };
    // A manifest from before the history: kept as the first entry.
    invocations = Array.isArray(old.invocations) ? old.invocations : [old];
  } catch {
    // None yet.
  }
  await writeFileAtomic(file, JSON.stringify({ invocations: [...invocations, { ...entry, at: new Date().toISOString() }] }, null, 2) + '\n');
}
