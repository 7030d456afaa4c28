/**
 * rouge_score's DefaultTokenizer: lowercase (Unicode rules), every run of characters outside a-z0-9
 * becomes a space, split on whitespace; with the stemmer, tokens longer than 3 characters are stemmed.
 */
export function rougeTokenize(text: string, stem?: (w: string) => string): string[] {
  const tokens = text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').split(/\s+/).filter((t) => t.length > 0);
  return stem ? tokens.map((t) => (t.length > 3 ? stem(t) : t)) : tokens;
}
