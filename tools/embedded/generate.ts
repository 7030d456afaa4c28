/**
 * Writes the embedded synthetic personalization benchmark in CoPe's file format for all five tasks:
 * `data/embedded/<task>/{user_others.json, user_top_100_history.json, user_top_100_history_label.json}`.
 * Seeded: the same seed gives byte-identical files. Usage: `node tools/dist/embedded/generate.js [outDir] [seed]`.
 */
import { Rng } from '@cope/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TASKS, type TaskName } from '@cope/data';
import { GENERATORS } from './items.js';
import { randomStyle } from './style.js';

export interface EmbeddedSizes {
  otherUsers: number;
  targetUsers: number;
  profileItems: number;
  queries: number;
  otherQueries: number;
}

export const DEFAULT_SIZES: EmbeddedSizes = { otherUsers: 40, targetUsers: 8, profileItems: 30, queries: 5, otherQueries: 5 };

/** Generates one task's three files as JSON strings. */
export function generateTask(task: TaskName, seed: number, sizes: EmbeddedSizes = DEFAULT_SIZES): Record<string, string> {
  const rng = new Rng(seed * 31 + TASKS[task].lampId.length * 7 + task.length);
  const gen = GENERATORS[task];
  const makeUser = (kind: 'o' | 't', u: number, nProfile: number, nQueries: number) => {
    const style = randomStyle(rng);
    const uid = `${task.slice(0, 2)}${kind}${u}`;
    const profile = Array.from({ length: nProfile }, (_, i) => ({ id: `${uid}p${i}`, ...gen(rng, style).fields }));
    const queries = Array.from({ length: nQueries }, (_, i) => {
      const g = gen(rng, style);
      return { id: `${uid}q${i}`, input: g.queryInput, gold: g.target };
    });
    return { user_id: uid, profile, query: queries };
  };
  const others = Array.from({ length: sizes.otherUsers }, (_, u) => makeUser('o', u, 3, sizes.otherQueries));
  const targets = Array.from({ length: sizes.targetUsers }, (_, u) => makeUser('t', u, sizes.profileItems, sizes.queries));
  const labels = { task: TASKS[task].lampId, golds: targets.flatMap((u) => u.query.map((q) => ({ id: q.id, output: q.gold }))) };
  const targetFile = targets.map((u) => ({ ...u, query: u.query.map(({ id, input }) => ({ id, input })) }));
  const json = (x: unknown) => JSON.stringify(x, null, 1) + '\n';
  return {
    'user_others.json': json(others),
    'user_top_100_history.json': json(targetFile),
    'user_top_100_history_label.json': json(labels),
  };
}

export function writeEmbedded(outDir: string, seed = 1): void {
  for (const task of Object.keys(TASKS) as TaskName[]) {
    const dir = path.join(outDir, task);
    mkdirSync(dir, { recursive: true });
    for (const [name, content] of Object.entries(generateTask(task, seed))) writeFileSync(path.join(dir, name), content);
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const out = process.argv[2] ?? path.resolve('data', 'embedded');
  writeEmbedded(out, Number(process.argv[3] ?? 1));
  console.log(`wrote ${out}`);
}
