import { porterStem } from './porter.js';
import { wordTokenize } from './word-tokenize.js';
import { WordNet } from './wordnet.js';

export interface MeteorOptions {
  alpha?: number;
  beta?: number;
  gamma?: number;
  wordnet?: WordNet;
}

type Enum = Array<[number, string]>;

/** `_match_enums`: for each hypothesis word from the end, the last equal reference word; both removed. */
function matchEnums(hyp: Enum, ref: Enum, equal: (h: string, r: string) => boolean): Array<[number, number]> {
  const matches: Array<[number, number]> = [];
  for (let i = hyp.length - 1; i >= 0; i--) {
    for (let j = ref.length - 1; j >= 0; j--) {
      if (equal(hyp[i][1], ref[j][1])) {
        matches.push([hyp[i][0], ref[j][0]]);
        hyp.splice(i, 1);
        ref.splice(j, 1);
        break;
      }
    }
  }
  return matches;
}

function countChunks(matches: Array<[number, number]>): number {
  let chunks = 1;
  for (let i = 0; i < matches.length - 1; i++) {
    if (!(matches[i + 1][0] === matches[i][0] + 1 && matches[i + 1][1] === matches[i][1] + 1)) chunks++;
  }
  return chunks;
}

/** Alignment of NLTK's `_enum_align_words`: exact, then Porter stems, then WordNet synonyms of the stem. */
export function meteorAlign(hypothesis: string[], reference: string[], wordnet: WordNet): { matches: Array<[number, number]>; exact: number; stem: number; synonym: number } {
  let hyp: Enum = hypothesis.map((w, i) => [i, w.toLowerCase()]);
  let ref: Enum = reference.map((w, i) => [i, w.toLowerCase()]);
  const exact = matchEnums(hyp, ref, (a, b) => a === b);
  hyp = hyp.map(([i, w]) => [i, porterStem(w)]);
  ref = ref.map(([i, w]) => [i, porterStem(w)]);
  const stem = matchEnums(hyp, ref, (a, b) => a === b);
  const synonym: Array<[number, number]> = [];
  for (let i = hyp.length - 1; i >= 0; i--) {
    const syns = wordnet.synonyms(hyp[i][1]);
    const word = hyp[i][1];
    for (let j = ref.length - 1; j >= 0; j--) {
      if (ref[j][1] === word || syns.has(ref[j][1])) {
        synonym.push([hyp[i][0], ref[j][0]]);
        hyp.splice(i, 1);
        ref.splice(j, 1);
        break;
      }
    }
  }
  const matches = [...exact, ...stem, ...synonym].sort((a, b) => a[0] - b[0]);
  return { matches, exact: exact.length, stem: stem.length, synonym: synonym.length };
}

/** NLTK 3.8.1 `single_meteor_score` on token lists (lower-cased inside, as its default preprocess). */
export function meteorTokens(reference: string[], hypothesis: string[], opts: MeteorOptions = {}): number {
  const alpha = opts.alpha ?? 0.9;
  const beta = opts.beta ?? 3;
  const gamma = opts.gamma ?? 0.5;
  const { matches } = meteorAlign(hypothesis, reference, opts.wordnet ?? WordNet.load());
  const m = matches.length;
  if (m === 0 || hypothesis.length === 0 || reference.length === 0) return 0;
  const precision = m / hypothesis.length;
  const recall = m / reference.length;
  const fmean = (precision * recall) / (alpha * precision + (1 - alpha) * recall);
  const fragFrac = countChunks(matches) / m;
  return (1 - gamma * fragFrac ** beta) * fmean;
}

/** METEOR as HF `evaluate` computes it: `meteor_score([word_tokenize(ref)], word_tokenize(pred))`. */
export function meteor(reference: string, prediction: string, opts: MeteorOptions = {}): number {
  return meteorTokens(wordTokenize(reference), wordTokenize(prediction), opts);
}
