import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { TASK_NAMES } from '@cope/data';
import { writeFileAtomic } from '@cope/model';

interface TaskResults {
  task: string;
  lampId: string;
  users: number;
  results: Array<{ method: string; 'rouge-1': number; 'rouge-L': number; meteor?: number; perUser: Array<{ user: number; 'rouge-1': number; 'rouge-L': number }> }>;
}

async function readJsonl(file: string): Promise<Array<Record<string, number>>> {
  try {
    return (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

async function lossCurves(runDir: string, task: string): Promise<Record<string, Array<{ x: number; y: number }>>> {
  const curves: Record<string, Array<{ x: number; y: number }>> = {};
  const tam = await readJsonl(path.join(runDir, 'ckpt', 'TAM', task, 'metrics.jsonl'));
  if (tam.length) curves['TAM'] = tam.map((l) => ({ x: l.step, y: l.loss }));
  for (const [stage, label] of [['OPPU_SFT', 'OPPU'], ['OPPU_SFT+DPO', 'DPO']] as const) {
    const dir = path.join(runDir, 'ckpt', stage, task);
    let users: string[] = [];
    try {
      users = (await fs.readdir(dir)).filter((d) => d.startsWith('user_')).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
    } catch {
      continue;
    }
    // Mean loss per step over users (each user trains the same number of steps with equal data sizes).
    const byStep = new Map<number, number[]>();
    for (const u of users) for (const l of await readJsonl(path.join(dir, u, 'metrics.jsonl'))) byStep.set(l.step, [...(byStep.get(l.step) ?? []), l.loss]);
    if (byStep.size) curves[`${label} (mean over ${users.length} users)`] = [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([x, ys]) => ({ x, y: ys.reduce((a, b) => a + b, 0) / ys.length }));
  }
  return curves;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * Writes one self-contained HTML file: per task the metrics table of every method that was run, the loss
 * curves of each training stage, and per-user ROUGE-L gains of CoPe over OPPU, drawn with Chart.js
 * (inlined, so the file opens offline).
 */
export async function writeReport(runDir: string, outFile: string): Promise<string[]> {
  const tasks: Array<TaskResults & { curves: Record<string, Array<{ x: number; y: number }>> }> = [];
  for (const t of TASK_NAMES) {
    try {
      const r = JSON.parse(await fs.readFile(path.join(runDir, 'output', t, 'results.json'), 'utf8')) as TaskResults;
      tasks.push({ ...r, curves: await lossCurves(runDir, t) });
    } catch {
      // task not run
    }
  }
  if (tasks.length === 0) throw new Error(`${runDir}: no output/<task>/results.json found (run cope run first)`);
  const require = createRequire(import.meta.url);
  // The UMD build is not in chart.js's exports map: locate it next to the resolved entry.
  const chartJs = await fs.readFile(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js'), 'utf8');
  let manifest: Record<string, unknown> = {};
  try {
    manifest = JSON.parse(await fs.readFile(path.join(runDir, 'manifest.json'), 'utf8'));
  } catch {
    manifest = {};
  }
  const tables = tasks.map((t) => {
    const best = Math.max(...t.results.map((r) => r['rouge-L']));
    const rows = t.results.map((r) => `<tr${r['rouge-L'] === best ? ' class="best"' : ''}><td>${esc(r.method)}</td><td>${r['rouge-1'].toFixed(4)}</td><td>${r['rouge-L'].toFixed(4)}</td><td>${r.meteor !== undefined ? r.meteor.toFixed(4) : '–'}</td></tr>`).join('');
    return `<section><h2>${esc(t.task)} <small>(${esc(t.lampId)}, ${t.users} users)</small></h2>
<table><thead><tr><th>method</th><th>ROUGE-1</th><th>ROUGE-L</th><th>METEOR</th></tr></thead><tbody>${rows}</tbody></table>
<div class="charts"><div><h3>Training loss</h3><canvas id="loss-${esc(t.task)}"></canvas></div><div><h3>Per-user ROUGE-L gain of CoPe over OPPU</h3><canvas id="gain-${esc(t.task)}"></canvas></div></div></section>`;
  }).join('\n');
  const data = JSON.stringify(tasks.map((t) => ({ task: t.task, curves: t.curves, results: t.results }))).replace(/</g, '\\u003c');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CoPe report</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:1100px}table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.3rem .8rem;text-align:right}td:first-child,th:first-child{text-align:left}tr.best{font-weight:bold;background:#eef7ee}.charts{display:grid;grid-template-columns:1fr 1fr;gap:1rem}small{color:#666}pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:12px}</style>
<script>window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message));document.documentElement.setAttribute('data-errors',window.__errors.join(' | '));});</script>
<script>${chartJs}</script></head>
<body><h1>CoPe report</h1><p>Run folder: <code>${esc(runDir)}</code></p>
${tables}
<details><summary>manifest.json</summary><pre>${esc(JSON.stringify(manifest, null, 2))}</pre></details>
<script>
(function () {
  var tasks = ${data};
  var colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
  tasks.forEach(function (t) {
    var names = Object.keys(t.curves);
    new Chart(document.getElementById('loss-' + t.task), { type: 'line', data: { datasets: names.map(function (n, i) {
      return { label: n, data: t.curves[n], borderColor: colors[i % colors.length], pointRadius: 0, parsing: false };
    }) }, options: { animation: false, scales: { x: { type: 'linear', title: { display: true, text: 'step' } }, y: { title: { display: true, text: 'loss' } } } } });
    // Greedy results when present, else the sampling runs' means.
    var pick = function (m) { return t.results.find(function (r) { return r.method === m; }) || t.results.find(function (r) { return r.method === m + '-sampling-mean'; }); };
    var cope = pick('CoPe');
    var oppu = pick('OPPU');
    var gains = cope && oppu ? cope.perUser.map(function (u, i) { return u['rouge-L'] - oppu.perUser[i]['rouge-L']; }) : [];
    new Chart(document.getElementById('gain-' + t.task), { type: 'bar', data: { labels: gains.map(function (_, i) { return 'user_' + (cope ? cope.perUser[i].user : i); }),
      datasets: [{ label: 'ROUGE-L (CoPe − OPPU)', data: gains, backgroundColor: gains.map(function (g) { return g >= 0 ? '#2ca02c' : '#d62728'; }) }] }, options: { animation: false } });
  });
  document.documentElement.setAttribute('data-rendered', String(document.querySelectorAll('canvas').length));
})();
</script></body></html>
`;
  await writeFileAtomic(outFile, html);
  return tasks.map((t) => t.task);
}
