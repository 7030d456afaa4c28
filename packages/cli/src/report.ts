import { writeFileAtomic } from '@cope/core';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { TASK_NAMES, type TaskName } from '@cope/data';
import { RunStore } from '@cope/pipeline';

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

async function lossCurves(store: RunStore, task: TaskName): Promise<Record<string, Array<{ x: number; y: number }>>> {
  const curves: Record<string, Array<{ x: number; y: number }>> = {};
  const L = store.task(task).layout;
  const tam = await readJsonl(path.join(L.tam, 'metrics.jsonl'));
  if (tam.length) curves['TAM'] = tam.map((l) => ({ x: l.step, y: l.loss }));
  for (const [dir, label] of [[L.oppuDir, 'OPPU'], [L.dpoDir, 'DPO']] as const) {
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
  const store = new RunStore(runDir);
  for (const t of TASK_NAMES) {
    try {
      const r = JSON.parse(await fs.readFile(store.task(t).layout.results, 'utf8')) as TaskResults;
      tasks.push({ ...r, curves: await lossCurves(store, t) });
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
    manifest = JSON.parse(await fs.readFile(store.files.manifest, 'utf8'));
  } catch {
    manifest = {};
  }
  const tables = tasks.map((t) => {
    // The best value of each column as shown (4 decimals) is bold, ties too, as in the README's tables.
    const columns = ['rouge-1', 'rouge-L', 'meteor'] as const;
    const shown = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(4));
    const best = Object.fromEntries(columns.map((k) => [k, Math.max(...t.results.map((r) => (r[k] === undefined ? -Infinity : Number(shown(r[k])))))]));
    const cell = (r: TaskResults['results'][number], k: (typeof columns)[number]) => `<td${r[k] !== undefined && Number(shown(r[k])) === best[k] ? ' class="best"' : ''}>${shown(r[k])}</td>`;
    const rows = t.results.map((r) => `<tr><td>${esc(r.method)}</td>${columns.map((k) => cell(r, k)).join('')}</tr>`).join('');
    return `<section><h2>${esc(t.task)} <small>(${esc(t.lampId)}, ${t.users} users)</small></h2>
<div class="panels"><div><h3>Metrics</h3><table><thead><tr><th>method</th><th>ROUGE-1</th><th>ROUGE-L</th><th>METEOR</th></tr></thead><tbody>${rows}</tbody></table>
<p class="note">Best of each column in bold.</p></div>
<div><h3>Training loss</h3><canvas id="loss-${esc(t.task)}"></canvas></div><div><h3>Per-user ROUGE-L gain of CoPe over OPPU</h3><canvas id="gain-${esc(t.task)}"></canvas></div></div></section>`;
  }).join('\n');
  const data = JSON.stringify(tasks.map((t) => ({ task: t.task, curves: t.curves, results: t.results }))).replace(/</g, '\\u003c');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CoPe report</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.3rem .8rem;text-align:right}td:first-child,th:first-child{text-align:left}td.best{font-weight:bold;background:#eef7ee}.panels{display:grid;grid-template-columns:minmax(300px,auto) minmax(360px,1fr) minmax(360px,1fr);gap:2rem;align-items:start}.note{color:#666;font-size:12px}small{color:#666}pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:12px}@media (max-width:1100px){.panels{grid-template-columns:1fr}}</style>
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
    // Green where CoPe gains, red where it loses, grey where it ties (drawn as a short stub so it is seen).
    var colorOf = function (g) { return g > 0 ? '#2ca02c' : g < 0 ? '#d62728' : '#888888'; };
    var legend = [['CoPe better', '#2ca02c'], ['CoPe worse', '#d62728'], ['tie', '#888888']];
    var canvas = document.getElementById('gain-' + t.task);
    var chart = new Chart(canvas, { type: 'bar', data: { labels: gains.map(function (_, i) { return 'user_' + (cope ? cope.perUser[i].user : i); }),
      datasets: [{ label: 'ROUGE-L (CoPe − OPPU)', data: gains, minBarLength: 3, backgroundColor: gains.map(colorOf) }] },
      options: { animation: false, scales: { y: { title: { display: true, text: 'ROUGE-L (CoPe − OPPU)' } } },
        plugins: { legend: { labels: { generateLabels: function () { return legend.map(function (l) { return { text: l[0], fillStyle: l[1], strokeStyle: l[1], lineWidth: 0 }; }); } } } } } });
    canvas.setAttribute('data-legend', JSON.stringify(chart.legend.legendItems.map(function (i) { return [i.text, i.fillStyle]; })));
    canvas.setAttribute('data-bars', JSON.stringify(gains.map(function (g, i) { var el = chart.getDatasetMeta(0).data[i]; return [colorOf(g), Math.round(Math.abs(el.base - el.y))]; })));
  });
  document.documentElement.setAttribute('data-rendered', String(document.querySelectorAll('canvas').length));
})();
</script></body></html>
`;
  await writeFileAtomic(outFile, html);
  return tasks.map((t) => t.task);
}
