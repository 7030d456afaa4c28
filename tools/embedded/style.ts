import { type Rng } from '@cope/core';
import { CONCEPTS } from './world.js';

/**
 * A user's writing style: fixed for the user, visible in every output, learnable from the profile.
 * Documented in data/embedded/README.md.
 */
export interface UserStyle {
  casing: 'title' | 'lower' | 'sentence' | 'upper';
  ending: '' | '!' | '.' | '...';
  /** A recurring phrase before the text (e.g. "Breaking:") or after it (e.g. "- daily brief"). */
  signature: { text: string; where: 'prefix' | 'suffix' } | null;
  /** Index into each concept's wordings. */
  lexicon: Record<string, number>;
  /** Verbose users add the place / an extra clause; terse users do not. */
  verbose: boolean;
}

const SIGNATURES = ['Breaking:', 'Update:', 'Big news:', 'Heads up:', '- daily brief', '- full story', '(report)', '- via the wire', 'Honestly,', 'In short,'];

export function randomStyle(rng: Rng): UserStyle {
  const lexicon: Record<string, number> = {};
  for (const c of Object.keys(CONCEPTS)) lexicon[c] = rng.int(CONCEPTS[c].length);
  const sig = rng.next() < 0.75 ? rng.pick(SIGNATURES) : null;
  return {
    casing: rng.pick(['title', 'lower', 'sentence', 'upper'] as const),
    ending: rng.pick(['', '!', '.', '...'] as const),
    signature: sig ? { text: sig, where: /^[-(]/.test(sig) ? 'suffix' : 'prefix' } : null,
    lexicon,
    verbose: rng.next() < 0.5,
  };
}

export function word(style: UserStyle, concept: string): string {
  return CONCEPTS[concept][style.lexicon[concept]];
}

function applyCasing(text: string, casing: UserStyle['casing']): string {
  switch (casing) {
    case 'lower': return text.toLowerCase();
    case 'upper': return text.toUpperCase();
    case 'title': return text.replace(/\b([a-z])([a-z]*)/g, (_, a: string, b: string) => a.toUpperCase() + b);
    case 'sentence': return text.charAt(0).toUpperCase() + text.slice(1);
  }
}

/** Short outputs (headlines, titles): casing, signature and ending all apply. */
export function styleShort(style: UserStyle, text: string): string {
  let t = applyCasing(text, style.casing);
  if (style.signature?.where === 'prefix') t = `${style.signature.text} ${t}`;
  t = t + style.ending;
  if (style.signature?.where === 'suffix') t = `${t} ${style.signature.text}`;
  return t;
}

/** Long outputs: sentence casing only (readable), signature phrase and exclamation habit. */
export function styleLong(style: UserStyle, sentences: string[]): string {
  const body = sentences.map((s) => {
    const t = s.charAt(0).toUpperCase() + s.slice(1);
    return style.ending === '!' ? `${t}!` : `${t}.`;
  });
  if (style.casing === 'lower') body.forEach((s, i) => (body[i] = s.toLowerCase()));
  if (style.signature?.where === 'prefix') body.unshift(style.signature.text);
  if (style.signature?.where === 'suffix') body.push(style.signature.text);
  return body.join(' ');
}
