/**
 * NLTK 3.8.1 `word_tokenize` for English: sentence splitting (an approximation of the Punkt English
 * model, see {@link splitSentences}) followed by NLTKWordTokenizer's regular expressions, with Python's
 * Unicode-aware \w, \d and \b emulated.
 */
const W = '[\\p{L}\\p{N}_]';
const NOT_W_AFTER = `(?!${W})`;
const NOT_W_BEFORE = `(?<!${W})`;

type Sub = [RegExp, string | ((...m: string[]) => string)];

const STARTING_QUOTES: Sub[] = [
  [/([«“‘„]|[`]+)/gu, ' $1 '],
  [/^"/u, '``'],
  [/(``)/gu, ' $1 '],
  [/([ ([{<])("|'{2})/gu, '$1 `` '],
  [new RegExp(`(')(?!re|ve|ll|m|t|s|d|n)(${W})${NOT_W_AFTER}`, 'giu'), '$1 $2'],
];

const ENDING_QUOTES: Sub[] = [
  [/([»”’])/gu, ' $1 '],
  [/''/gu, " '' "],
  [/"/gu, " '' "],
  [/([^' ])('[sS]|'[mM]|'[dD]|') /gu, '$1 $2 '],
  [/([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) /gu, '$1 $2 '],
];

const PUNCTUATION: Sub[] = [
  [/([^.])(\.)([\])}>"'»”’ ]*)\s*$/u, '$1 $2 $3 '],
  [/([:,])([^\p{Nd}])/gu, ' $1 $2'],
  [/([:,])$/u, ' $1 '],
  [/\.{2,}/gu, ' $& '],
  [/[;@#$%&]/gu, ' $& '],
  [/([^.])(\.)([\])}>"']*)\s*$/u, '$1 $2$3 '],
  [/[?!]/gu, ' $& '],
  [/([^'])' /gu, "$1 ' "],
  [/[*]/gu, ' $& '],
];

const PARENS_BRACKETS: Sub = [/[\][(){}<>]/gu, ' $& '];
const DOUBLE_DASHES: Sub = [/--/gu, ' -- '];

const CONTRACTIONS2 = [
  ['can', 'not'], ['d', "'ye"], ['gim', 'me'], ['gon', 'na'], ['got', 'ta'], ['lem', 'me'], ['more', "'n"],
].map(([a, b]) => new RegExp(`${NOT_W_BEFORE}(${a})(${b})${NOT_W_AFTER}`, 'giu'));
const WANNA = /(?<![\p{L}\p{N}_])(wan)(na)(?=\s)/giu;
const CONTRACTIONS3 = [/ ('t)(is)(?![\p{L}\p{N}_])/giu, / ('t)(was)(?![\p{L}\p{N}_])/giu];

function apply(text: string, [re, sub]: Sub): string {
  return text.replace(re, sub as string);
}

/** NLTKWordTokenizer.tokenize on one sentence. */
export function treebankTokenize(sentence: string): string[] {
  let t = sentence;
  for (const s of STARTING_QUOTES) t = apply(t, s);
  for (const s of PUNCTUATION) t = apply(t, s);
  t = apply(t, PARENS_BRACKETS);
  t = apply(t, DOUBLE_DASHES);
  t = ` ${t} `;
  for (const s of ENDING_QUOTES) t = apply(t, s);
  for (const re of [...CONTRACTIONS2, WANNA]) t = t.replace(re, ' $1 $2 ');
  for (const re of CONTRACTIONS3) t = t.replace(re, ' $1 $2 ');
  return t.split(/\s+/u).filter(Boolean);
}

/** Abbreviations of the Punkt English model that most often precede a period mid-sentence. */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'etc', 'e.g', 'i.e', 'u.s', 'u.k', 'inc', 'ltd', 'co', 'corp',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'no', 'fig', 'al', 'gen', 'gov',
  'sen', 'rep', 'col', 'lt', 'capt', 'mt', 'ft', 'approx', 'dept', 'est', 'a.m', 'p.m',
]);

/**
 * Sentence splitting approximating Punkt (English): a break after a token ending in `.`, `!` or `?`
 * (optionally followed by closing quotes or brackets) and whitespace, unless the token is a known
 * abbreviation, a single-letter initial, or a number.
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  const re = /[.!?]+["'”’)\]]*(?=\s+)/gu;
  let start = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const end = m.index + m[0].length;
    const before = text.slice(start, m.index);
    const word = (/(\S+)$/u.exec(before)?.[1] ?? '').toLowerCase();
    const punct = m[0];
    if (punct.startsWith('.') && !punct.startsWith('..')) {
      if (ABBREVIATIONS.has(word.replace(/^[("'“‘]+/u, '')) || /^[a-z]$/u.test(word) || /^\d+$/u.test(word)) continue;
    }
    out.push(text.slice(start, end));
    start = end;
    while (start < text.length && /\s/u.test(text[start])) start++;
    re.lastIndex = start;
  }
  if (start < text.length) out.push(text.slice(start));
  return out.filter((s) => s.trim().length > 0);
}

/** `nltk.word_tokenize(text)`. */
export function wordTokenize(text: string): string[] {
  return splitSentences(text).flatMap(treebankTokenize);
}
