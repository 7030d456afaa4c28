/**
 * A small byte-level BPE trainer that writes a Hugging Face `tokenizer.json` (GPT-2 style byte-level
 * pre-tokenizer and decoder, BOS added by a template post-processor). No npm package trains HF tokenizers
 * offline in JS, so this is written here; it is deterministic (ties broken by the pair's text).
 */

/** GPT-2's reversible byte → printable character map. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i])));
  return out;
}

/** The GPT-2 pre-tokenization pattern the ByteLevel pre-tokenizer uses. */
const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface BpeOptions {
  vocabSize: number;
  specialTokens: string[];
  /** Added first to every encoding by the post-processor. */
  bosToken: string;
}

export function trainByteLevelBpe(texts: string[], opts: BpeOptions): object {
  const byteMap = bytesToUnicode();
  const enc = new TextEncoder();
  const counts = new Map<string, number>();
  for (const t of texts) {
    for (const m of t.matchAll(PRETOKENIZE)) {
      const w = Array.from(enc.encode(m[0]), (b) => byteMap[b]).join('');
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  const words = [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([w, c]) => ({ symbols: Array.from(w), count: c }));
  const vocab = new Map<string, number>();
  opts.specialTokens.forEach((s) => vocab.set(s, vocab.size));
  for (const ch of [...byteMap].sort()) vocab.set(ch, vocab.size);
  const merges: string[] = [];
  while (vocab.size < opts.vocabSize) {
    const pairs = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.symbols.length; i++) {
        const k = w.symbols[i] + '\u0000' + w.symbols[i + 1];
        pairs.set(k, (pairs.get(k) ?? 0) + w.count);
      }
    }
    let best: string | null = null;
    let bestCount = 1;
    for (const [k, c] of pairs) if (c > bestCount || (c === bestCount && best !== null && k < best)) [best, bestCount] = [k, c];
    if (best === null) break;
    const [a, b] = best.split('\u0000');
    const merged = a + b;
    merges.push(`${a} ${b}`);
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    for (const w of words) {
      const s = w.symbols;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(merged);
          i++;
        } else out.push(s[i]);
      }
      w.symbols = out;
    }
  }
  const bosId = vocab.get(opts.bosToken);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: opts.specialTokens.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: opts.bosToken, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: opts.bosToken, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [opts.bosToken]: { id: opts.bosToken, ids: [bosId], tokens: [opts.bosToken] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab: Object.fromEntries(vocab), merges,
    },
  };
}
