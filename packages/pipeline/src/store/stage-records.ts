import { writeFileAtomic } from '@cope/core';
import { promises as fs } from 'node:fs';
import type { TaskName } from '@cope/data';
import type { RunConfig } from '../config.js';
import { STAGE_ORDER, type StageName } from '../stage-names.js';
import { runFiles, taskLayout } from './layout.js';

/**
 * The settings each stage's results depend on (beyond those of the stages it reads): a stage is reused only when
 * these match what it was made with. Runtime knobs (workers, threads, shard, backend choice, which tasks and how
 * many users) are not among them: they do not change a user's results.
 */
const STAGE_SETTINGS: Record<StageName, { reads: StageName[]; keys: Array<keyof RunConfig>; omit?: string[] }> = {
  tam: { reads: [], keys: ['dataDir', 'model', 'seed', 'chatTemplate', 'tam'] },
  sft: { reads: ['tam'], keys: ['oppu'] },
  negatives: { reads: ['tam'], keys: ['negatives'] },
  score: { reads: ['sft', 'negatives'], keys: ['score'] },
  dpo: { reads: ['score'], keys: ['dpo'] },
  // Sampling runs write files of their own, and batching leaves every row's tokens as they are (tested).
  decode: { reads: ['dpo'], keys: ['decode'], omit: ['sampling', 'batchSize'] },
  eval: { reads: ['decode'], keys: [] },
};

/** Every stage `stage` depends on, itself included, in order. */
function lineage(stage: StageName): StageName[] {
  const seen = new Set<StageName>();
  const visit = (s: StageName) => {
    if (seen.has(s)) return;
    STAGE_SETTINGS[s].reads.forEach(visit);
    seen.add(s);
  };
  visit(stage);
  return STAGE_ORDER.filter((s) => seen.has(s));
}

/** The stages whose results depend on `stage`'s, itself included. */
function dependents(stage: StageName): StageName[] {
  return STAGE_ORDER.filter((s) => lineage(s).includes(stage));
}

type Settings = Record<string, unknown>;
/** `stages.json`: per task, the settings each stage was last started with. */
type StageRecords = Record<string, Partial<Record<StageName, Settings>>>;

function settingsOf(config: RunConfig, stage: StageName): Settings {
  const { keys, omit = [] } = STAGE_SETTINGS[stage];
  const without = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([k]) => !omit.includes(k))) : v);
  return Object.fromEntries(keys.map((k) => [k, without(config[k])]));
}

/** Key paths where two settings objects differ, with both values. */
function differences(was: unknown, now: unknown, at = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(was) && isObject(now)) {
    return [...new Set([...Object.keys(was), ...Object.keys(now)])].sort().flatMap((k) => differences(was[k], now[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(was) === JSON.stringify(now) ? [] : [`${at}: was ${JSON.stringify(was) ?? 'unset'}, now ${JSON.stringify(now) ?? 'unset'}`];
}

/** What a stage's results occupy in the run folder, for `--redo`. */
function stageFiles(config: RunConfig, task: TaskName, stage: StageName): string[] {
  const L = taskLayout(config.runDir, task);
  switch (stage) {
    case 'tam': return [L.tam];
    case 'sft': return [L.oppuDir];
    case 'negatives': return [L.negatives, L.negativesParts];
    case 'score': return [L.selected('max'), L.selected('min'), L.selectedParts('max'), L.selectedParts('min')];
    case 'dpo': return [L.dpoDir];
    case 'decode': return [L.outputDir];
    case 'eval': return [L.results];
  }
}

/**
 * The run folder's record of what made its results. Before any work: every stage this run would reuse or add to
 * (the requested stages and those they read) must have been made with the current settings; otherwise the run
 * is refused, naming each differing key, unless `redo` is set, which deletes those stages' results and everything
 * that depends on them. Then the requested stages are recorded with the current settings.
 */
export async function checkStageSettings(config: RunConfig, stages: readonly StageName[], redo = false): Promise<void> {
  const file = runFiles(config.runDir).stages;
  let records: StageRecords = {};
  try {
    records = JSON.parse(await fs.readFile(file, 'utf8')) as StageRecords;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file}: cannot read (${(e as Error).message}); delete it to start the record afresh`);
  }
  const problems: string[] = [];
  const stale = new Map<TaskName, Set<StageName>>();
  for (const task of config.tasks) {
    const involved = new Set(stages.flatMap(lineage));
    for (const stage of STAGE_ORDER.filter((s) => involved.has(s))) {
      const was = records[task]?.[stage];
      if (!was) continue;
      const diff = differences(was, settingsOf(config, stage));
      if (!diff.length) continue;
      problems.push(...diff.map((d) => `${task} ${stage}: ${d}`));
      if (!stale.has(task)) stale.set(task, new Set());
      for (const s of dependents(stage)) stale.get(task)!.add(s);
    }
  }
  if (problems.length && !redo) {
    throw new Error(`${config.runDir}: this run folder's results were made with other settings:\n  ${problems.join('\n  ')}\n` +
      'Use another --run folder, set the settings back, or add --redo to delete those stages\' results (and what depends on them) and make them again.');
  }
  for (const [task, set] of stale) {
    for (const stage of set) {
      for (const f of stageFiles(config, task, stage)) await fs.rm(f, { recursive: true, force: true });
      delete records[task]?.[stage];
    }
  }
  for (const task of config.tasks) {
    records[task] ??= {};
    for (const stage of stages) records[task][stage] = settingsOf(config, stage);
  }
  await fs.mkdir(config.runDir, { recursive: true });
  await writeFileAtomic(file, JSON.stringify(records, null, 2) + '\n');
}

