import { promises as fs } from 'node:fs';
import path from 'node:path';
import { meteor } from './meteor.js';
import { rouge } from './rouge.js';

/** LaMP / LongLaMP task ids accepted by the evaluator (`utils.name2taskid`). */
export const LAMP_TASK_IDS = ['LaMP_4', 'LaMP_5', 'LongLaMP_2', 'LongLaMP_3', 'LongLaMP_4'] as const;
export type LampTaskId = (typeof LAMP_TASK_IDS)[number];

export interface OutputFile {
  task: string;
  golds: Array<{ id: string; output: string }>;
  [key: string]: unknown;
}

export interface ExampleScores {
  id: string;
  'rouge-1': number;
  'rouge-2': number;
  'rouge-L': number;
  'rouge-Lsum': number;
  meteor: number;
}

export interface LampResults {
  'rouge-1': number;
  'rouge-L': number;
  meteor: number;
  examples?: ExampleScores[];
}

/** An evaluation input problem; the message names the file and what is wrong. */
export class EvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationError';
  }
}

function checkShape(f: unknown, file: string): OutputFile {
  const o = f as OutputFile;
  if (!o || typeof o !== 'object' || typeof o.task !== 'string') throw new EvaluationError(`${file}: task: expected a string`);
  if (!Array.isArray(o.golds)) throw new EvaluationError(`${file}: golds: expected an array of {id, output}`);
  o.golds.forEach((g, i) => {
    if (!g || (typeof g.id !== 'string' && typeof g.id !== 'number')) throw new EvaluationError(`${file}: golds[${i}].id: expected a string`);
    if (typeof g.output !== 'string') throw new EvaluationError(`${file}: golds[${i}].output: expected a string`);
  });
  return o;
}

/**
 * Scores predictions against golds (ROUGE-1, ROUGE-L, METEOR) as CoPe's `eval/evaluation.py` does, but with deterministic means
 * over examples instead of bootstrap medians: texts are stripped, task ids and id sets must agree.
 */
export function evaluateLamp(task: LampTaskId, golds: OutputFile, preds: OutputFile, opts: { perExample?: boolean; goldsFile?: string; predsFile?: string } = {}): LampResults {
  const gf = opts.goldsFile ?? 'golds';
  const pf = opts.predsFile ?? 'predictions';
  if (!(LAMP_TASK_IDS as readonly string[]).includes(task)) throw new EvaluationError(`Unknown task "${task}": expected one of ${LAMP_TASK_IDS.join(', ')}`);
  checkShape(golds, gf);
  checkShape(preds, pf);
  if (golds.task !== task) throw new EvaluationError(`${gf}: task is "${golds.task}", expected "${task}"`);
  if (preds.task !== task) throw new EvaluationError(`${pf}: task is "${preds.task}", expected "${task}"`);
  const gold = new Map(golds.golds.map((g) => [String(g.id), g.output]));
  const pred = new Map(preds.golds.map((g) => [String(g.id), g.output]));
  const missing = [...gold.keys()].filter((k) => !pred.has(k));
  const extra = [...pred.keys()].filter((k) => !gold.has(k));
  if (missing.length || extra.length) {
    const list = (xs: string[]) => xs.slice(0, 20).join(', ') + (xs.length > 20 ? ` (+${xs.length - 20} more)` : '');
    throw new EvaluationError(`${pf} does not cover the ids of ${gf}:${missing.length ? ` missing ${list(missing)};` : ''}${extra.length ? ` extra ${list(extra)};` : ''}`.replace(/;$/, ''));
  }
  const examples: ExampleScores[] = [];
  for (const [id, ref] of gold) {
    const s = rouge(ref.trim(), pred.get(id)!.trim());
    const p = pred.get(id)!.trim();
    examples.push({
      id, 'rouge-1': s.rouge1.fmeasure, 'rouge-2': s.rouge2.fmeasure, 'rouge-L': s.rougeL.fmeasure, 'rouge-Lsum': s.rougeLsum.fmeasure,
      meteor: meteor(ref.trim(), p),
    });
  }
  const out: LampResults = meanScores(examples);
  if (opts.perExample) out.examples = examples;
  return out;
}

/**
 * LaMP's reported scores (ROUGE-1, ROUGE-L, METEOR) of a set of examples: their means in the given order, 0 for
 * none. `evaluateLamp`'s over all examples; over one user's examples, that user's scores.
 */
export function meanScores(examples: readonly ExampleScores[]): { 'rouge-1': number; 'rouge-L': number; meteor: number } {
  const mean = (k: 'rouge-1' | 'rouge-L' | 'meteor') => (examples.length ? examples.reduce((a, e) => a + e[k], 0) / examples.length : 0);
  return { 'rouge-1': mean('rouge-1'), 'rouge-L': mean('rouge-L'), meteor: mean('meteor') };
}

async function readOutputFile(file: string): Promise<OutputFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new EvaluationError(`${file}: file not found`);
  }
  try {
    return checkShape(JSON.parse(text), file);
  } catch (e) {
    if (e instanceof EvaluationError) throw e;
    throw new EvaluationError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Evaluates files and, like the reference script, writes `results` into `outputFile` (normally the
 * predictions file itself), atomically.
 */
export async function evaluateLampFiles(task: LampTaskId, goldsFile: string, predsFile: string, opts: { outputFile?: string; perExample?: boolean } = {}): Promise<LampResults> {
  const golds = await readOutputFile(goldsFile);
  const preds = await readOutputFile(predsFile);
  const results = evaluateLamp(task, golds, preds, { perExample: opts.perExample, goldsFile, predsFile });
  if (opts.outputFile) {
    let target: Record<string, unknown> = {};
    try {
      target = JSON.parse(await fs.readFile(opts.outputFile, 'utf8'));
    } catch {
      target = {};
    }
    target.results = { 'rouge-1': results['rouge-1'], 'rouge-L': results['rouge-L'], meteor: results.meteor };
    const tmp = `${opts.outputFile}.tmp-${process.pid}`;
    await fs.mkdir(path.dirname(opts.outputFile), { recursive: true });
    await fs.writeFile(tmp, JSON.stringify(target, null, 2) + '\n');
    await fs.rename(tmp, opts.outputFile);
  }
  return results;
}
