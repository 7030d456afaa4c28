import { readJsonIfPresent } from '@cope/core';
import { TASKS } from '@cope/data';
import { evaluateLamp, meanScores, type LampTaskId, type OutputFile } from '@cope/metrics';
import type { TaskData } from './context.js';
import { outputOrder } from './methods.js';
import { runOutputs } from './stages/index.js';

/** LaMP's three reported scores. */
export type Scores = ReturnType<typeof meanScores>;

export interface MethodResult extends Scores {
  /** The predictions file's name: a method, `<method>-sampling-run_<n>`, or `<method>-sampling-mean` (the runs' mean). */
  method: string;
  perUser: Array<{ user: number } & Scores>;
}

const METRICS = ['rouge-1', 'rouge-L', 'meteor'] as const;

/** The mean of several results (sampling runs), user by user. */
function meanResult(name: string, runs: MethodResult[]): MethodResult {
  const mean = (f: (r: MethodResult) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  const scores = (f: (r: MethodResult) => Scores) => Object.fromEntries(METRICS.map((k) => [k, mean((r) => f(r)[k])])) as Scores;
  return { method: name, ...scores((r) => r), perUser: runs[0].perUser.map((u, j) => ({ user: u.user, ...scores((r) => r.perUser[j]) })) };
}

/** Sorts results as results.json lists them: method order, then greedy, the sampling runs, their mean. */
function byOutputOrder(a: MethodResult, b: MethodResult): number {
  const [x, y] = [outputOrder(a.method), outputOrder(b.method)];
  return x[0] - y[0] || x[1] - y[1];
}

/**
 * Scores every predictions file of the run against the labels of its users (overall and per user); adds the
 * scores to each file and writes results.json.
 */
export async function evaluateOutputs(ctx: TaskData): Promise<MethodResult[]> {
  const { store, allUsers } = ctx;
  if (!ctx.labels) throw new Error(`${ctx.config.dataDir}/${ctx.taskName}/user_top_100_history_label.json: needed for eval`);
  const spec = TASKS[ctx.taskName];
  const ids = new Set(allUsers.flatMap((i) => ctx.users[i].query.map((q) => String(q.id))));
  const golds = { task: spec.lampId, golds: ctx.labels.golds.filter((g) => ids.has(String(g.id))) };
  const results: MethodResult[] = [];
  const outputs = runOutputs(ctx.config);
  for (const { name } of outputs) {
    const file = store.layout.output(name);
    const preds = (await readJsonIfPresent(file)) as OutputFile & { results?: Scores };
    const res = evaluateLamp(spec.lampId as LampTaskId, golds, preds, { perExample: true, goldsFile: 'labels', predsFile: file });
    const byId = new Map(res.examples!.map((e) => [e.id, e]));
    const perUser = allUsers.map((i) => ({ user: i, ...meanScores(ctx.users[i].query.map((q) => byId.get(String(q.id))!)) }));
    const scores: Scores = { 'rouge-1': res['rouge-1'], 'rouge-L': res['rouge-L'], meteor: res.meteor };
    await store.writeJson(file, { ...preds, results: scores });
    results.push({ method: name, ...scores, perUser });
  }
  if (ctx.config.decode.sampling) {
    // Each method's runs (results[k] is outputs[k]'s until the means are appended).
    const runsOf = (method: string) => results.slice(0, outputs.length).filter((_, k) => outputs[k].method === method);
    for (const method of ctx.config.methods) results.push(meanResult(`${method}-sampling-mean`, runsOf(method)));
  }
  // Files evaluated earlier (e.g. by a full run before a single `cope decode`) stay in results.json.
  const old = (await readJsonIfPresent(store.layout.results)) as { users?: number; results?: MethodResult[] } | undefined;
  const previous = old?.users === allUsers.length ? old.results ?? [] : [];
  const merged = new Map<string, MethodResult>();
  for (const r of [...previous, ...results]) merged.set(r.method, r);
  await store.writeJson(store.layout.results, { task: ctx.taskName, lampId: spec.lampId, users: allUsers.length, results: [...merged.values()].sort(byOutputOrder) });
  return results;
}
