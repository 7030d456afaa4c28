import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

interface CompactWordnet {
  version: string;
  synsets: string[];
  index: Record<string, Record<string, number[]>>;
  exceptions: Record<string, Record<string, string[]>>;
}

/** NLTK's morphy suffix rules (`WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS`). */
const SUBSTITUTIONS: Record<string, Array<[string, string]>> = {
  n: [['s', ''], ['ses', 's'], ['ves', 'f'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['ies', 'y']],
  v: [['s', ''], ['ies', 'y'], ['es', 'e'], ['es', ''], ['ed', 'e'], ['ed', ''], ['ing', 'e'], ['ing', '']],
  a: [['er', ''], ['est', ''], ['er', 'e'], ['est', 'e']],
  r: [],
};
const POS_LIST = ['n', 'v', 'a', 'r'];

/** WordNet 3.0 lookups as NLTK's corpus reader does them, on the compact data file. */
export class WordNet {
  private constructor(private readonly db: CompactWordnet) {}

  private static instance: WordNet | null = null;

  /** The bundled WordNet 3.0 (loaded once, on first use). */
  static load(file = WordNet.defaultFile()): WordNet {
    if (!WordNet.instance) WordNet.instance = new WordNet(JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')));
    return WordNet.instance;
  }

  private static defaultFile(): string {
    const here = path.dirname(fileURLToPath(import.meta.url));
    return path.resolve(here, '..', 'data', 'wordnet-3.0.json.gz');
  }

  private has(form: string, pos: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.db.index[pos], form);
  }

  /** `_morphy(form, pos)`: base forms of `form` that WordNet lists under `pos`. */
  morphy(form: string, pos: string): string[] {
    const filter = (forms: string[]) => [...new Set(forms.filter((f) => this.has(f, pos)))];
    const exc = this.db.exceptions[pos];
    if (Object.prototype.hasOwnProperty.call(exc, form)) return filter([form, ...exc[form]]);
    const rules = SUBSTITUTIONS[pos];
    const applyRules = (forms: string[]) => forms.flatMap((f) => rules.filter(([old]) => f.endsWith(old)).map(([old, neu]) => f.slice(0, f.length - old.length) + neu));
    let forms = applyRules([form]);
    let results = filter([form, ...forms]);
    if (results.length) return results;
    while (forms.length) {
      forms = applyRules(forms);
      results = filter(forms);
      if (results.length) return results;
    }
    return [];
  }

  private readonly cache = new Map<string, ReadonlySet<string>>();

  /**
   * Names (without underscores) of the lemmas of every synset of `word`, over all parts of speech.
   * Memoised: evaluation looks the same words up many times.
   */
  synonyms(word: string): ReadonlySet<string> {
    let hit = this.cache.get(word);
    if (!hit) this.cache.set(word, (hit = this.lookup(word)));
    return hit;
  }

  private lookup(word: string): Set<string> {
    const lemma = word.toLowerCase();
    const out = new Set<string>();
    for (const pos of POS_LIST) {
      for (const form of this.morphy(lemma, pos)) {
        for (const s of this.db.index[pos][form]) for (const name of this.db.synsets[s].split(' ')) if (name) out.add(name);
      }
    }
    return out;
  }
}
