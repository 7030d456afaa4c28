import { rougeTokenize } from './tokenize.js';

/** Precision, recall and F-measure of one ROUGE type. */
export interface Prf {
  precision: number;
  recall: number;
  fmeasure: number;
}

export interface RougeScores {
  rouge1: Prf;
  rouge2: Prf;
  rougeL: Prf;
  rougeLsum: Prf;
}

export interface RougeOptions {
  /** A stemmer for tokens longer than 3 characters (rouge_score's `use_stemmer`); LaMP uses none. */
  stemmer?: (word: string) => string;
}

function prf(hits: number, predCount: number, refCount: number): Prf {
  const precision = hits / Math.max(predCount, 1);
  const recall = hits / Math.max(refCount, 1);
  const fmeasure = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, fmeasure };
}

function ngramCounts(tokens: string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0000');
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

/** ROUGE-N with clipped n-gram counts, as `rouge_scorer._score_ngrams`. */
export function rougeN(ref: string[], pred: string[], n: number): Prf {
  const r = ngramCounts(ref, n);
  const p = ngramCounts(pred, n);
  let hits = 0;
  for (const [k, c] of p) hits += Math.min(c, r.get(k) ?? 0);
  let rc = 0;
  for (const c of r.values()) rc += c;
  let pc = 0;
  for (const c of p.values()) pc += c;
  return prf(hits, pc, rc);
}

/** LCS length table [|ref|+1][|pred|+1] as flat rows. */
function lcsTable(ref: string[], pred: string[]): Int32Array[] {
  const t = Array.from({ length: ref.length + 1 }, () => new Int32Array(pred.length + 1));
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= pred.length; j++) {
      t[i][j] = ref[i - 1] === pred[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
    }
  }
  return t;
}

/** ROUGE-L over the token sequences (not rougeLsum). */
export function rougeL(ref: string[], pred: string[]): Prf {
  if (ref.length === 0 || pred.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsTable(ref, pred)[ref.length][pred.length];
  return prf(lcs, pred.length, ref.length);
}

/** Indices into `ref` of one LCS with `pred`, by rouge_score's non-recursive backtrack. */
function lcsIndices(ref: string[], pred: string[]): number[] {
  const t = lcsTable(ref, pred);
  let i = ref.length;
  let j = pred.length;
  const out: number[] = [];
  while (i > 0 && j > 0) {
    if (ref[i - 1] === pred[j - 1]) {
      out.push(i - 1);
      i--;
      j--;
    } else if (t[i][j - 1] > t[i - 1][j]) j--;
    else i--;
  }
  return out.reverse();
}

/** Summary-level ROUGE-L: sentences split on newlines, union LCS per reference sentence, clipped hits. */
export function rougeLsum(refSents: string[][], predSents: string[][]): Prf {
  const m = refSents.reduce((a, s) => a + s.length, 0);
  const n = predSents.reduce((a, s) => a + s.length, 0);
  if (!m || !n) return { precision: 0, recall: 0, fmeasure: 0 };
  const refCounts = new Map<string, number>();
  const predCounts = new Map<string, number>();
  for (const s of refSents) for (const t of s) refCounts.set(t, (refCounts.get(t) ?? 0) + 1);
  for (const s of predSents) for (const t of s) predCounts.set(t, (predCounts.get(t) ?? 0) + 1);
  let hits = 0;
  for (const r of refSents) {
    const union = new Set<number>();
    for (const c of predSents) for (const i of lcsIndices(r, c)) union.add(i);
    for (const i of [...union].sort((a, b) => a - b)) {
      const tok = r[i];
      if ((predCounts.get(tok) ?? 0) > 0 && (refCounts.get(tok) ?? 0) > 0) {
        hits++;
        predCounts.set(tok, predCounts.get(tok)! - 1);
        refCounts.set(tok, refCounts.get(tok)! - 1);
      }
    }
  }
  return prf(hits, n, m);
}

/**
 * ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum of one prediction against one reference, exactly as
 * rouge_score 0.1.2's `RougeScorer.score` (what HF `evaluate`'s rouge calls). Texts are not stripped here.
 */
export function rouge(reference: string, prediction: string, opts: RougeOptions = {}): RougeScores {
  const ref = rougeTokenize(reference, opts.stemmer);
  const pred = rougeTokenize(prediction, opts.stemmer);
  const sents = (text: string) => text.split('\n').map((s) => rougeTokenize(s, opts.stemmer)).filter((s) => s.length > 0);
  return {
    rouge1: rougeN(ref, pred, 1),
    rouge2: rougeN(ref, pred, 2),
    rougeL: rougeL(ref, pred),
    rougeLsum: rougeLsum(sents(reference), sents(prediction)),
  };
}
