import type { RunSummary } from '@cope/pipeline';

/** A plain-text metrics table (what `cope run` prints at the end). */
export function metricsTable(summaries: RunSummary[]): string {
  const lines: string[] = [];
  for (const s of summaries) {
    if (!s.results) {
      lines.push(`${s.task}: not complete in this run folder${s.complete ? '' : ' (other shards pending? use cope merge)'}`);
      continue;
    }
    const w = Math.max(10, ...s.results.map((r) => r.method.length));
    lines.push(`${s.task}`, `  ${'method'.padEnd(w)} ${'ROUGE-1'.padStart(8)} ${'ROUGE-L'.padStart(8)} ${'METEOR'.padStart(8)}`);
    for (const r of s.results) lines.push(`  ${r.method.padEnd(w)} ${r['rouge-1'].toFixed(4).padStart(8)} ${r['rouge-L'].toFixed(4).padStart(8)} ${r.meteor.toFixed(4).padStart(8)}`);
  }
  return lines.join('\n');
}
