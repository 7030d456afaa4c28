import path from 'node:path';
import type { TaskName } from '@cope/data';

/** CoPe's folder layout inside a run folder (without its save/load path mismatch). */
export function runLayout(runDir: string, task: TaskName) {
  return {
    manifest: path.join(runDir, 'manifest.json'),
    tam: path.join(runDir, 'ckpt', 'TAM', task),
    oppu: (i: number) => path.join(runDir, 'ckpt', 'OPPU_SFT', task, `user_${i}`),
    dpo: (i: number) => path.join(runDir, 'ckpt', 'OPPU_SFT+DPO', task, `user_${i}`),
    dataDir: path.join(runDir, 'data', task),
    negatives: path.join(runDir, 'data', task, 'user_top_100_history_with_pseudo_negatives.json'),
    negativesParts: path.join(runDir, 'data', task, 'parts', 'pseudo_negatives'),
    selected: (mode: string) => path.join(runDir, 'data', task, `user_top_100_history_with_pseudo_negatives_${mode}.json`),
    selectedParts: (mode: string) => path.join(runDir, 'data', task, 'parts', `scores_${mode}`),
    outputDir: path.join(runDir, 'output', task),
    output: (method: string) => path.join(runDir, 'output', task, `${method}.json`),
    outputParts: (method: string) => path.join(runDir, 'output', task, 'parts', method),
    results: path.join(runDir, 'output', task, 'results.json'),
    logs: path.join(runDir, 'logs'),
  };
}

export type RunLayout = ReturnType<typeof runLayout>;
