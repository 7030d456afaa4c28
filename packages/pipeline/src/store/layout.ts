import path from 'node:path';
import type { TaskName } from '@cope/data';

/** A run folder's own files: the record of invocations, of stage settings, and the lock. */
export function runFiles(runDir: string) {
  return {
    manifest: path.join(runDir, 'manifest.json'),
    stages: path.join(runDir, 'stages.json'),
    lock: path.join(runDir, '.lock'),
    /** The folders holding results (what merging shards copies). */
    resultDirs: ['ckpt', 'data', 'output'].map((d) => path.join(runDir, d)),
  };
}

/** CoPe's folder layout of one task inside a run folder (without its save/load path mismatch). */
export function taskLayout(runDir: string, task: TaskName) {
  return {
    tam: path.join(runDir, 'ckpt', 'TAM', task),
    oppuDir: path.join(runDir, 'ckpt', 'OPPU_SFT', task),
    oppu: (i: number) => path.join(runDir, 'ckpt', 'OPPU_SFT', task, `user_${i}`),
    dpoDir: path.join(runDir, 'ckpt', 'OPPU_SFT+DPO', task),
    dpo: (i: number) => path.join(runDir, 'ckpt', 'OPPU_SFT+DPO', task, `user_${i}`),
    negatives: path.join(runDir, 'data', task, 'user_top_100_history_with_pseudo_negatives.json'),
    negativesParts: path.join(runDir, 'data', task, 'parts', 'pseudo_negatives'),
    selected: (mode: string) => path.join(runDir, 'data', task, `user_top_100_history_with_pseudo_negatives_${mode}.json`),
    selectedParts: (mode: string) => path.join(runDir, 'data', task, 'parts', `scores_${mode}`),
    outputDir: path.join(runDir, 'output', task),
    output: (name: string) => path.join(runDir, 'output', task, `${name}.json`),
    outputParts: (name: string) => path.join(runDir, 'output', task, 'parts', name),
    results: path.join(runDir, 'output', task, 'results.json'),
  };
}

export type TaskLayout = ReturnType<typeof taskLayout>;
