import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tokenizerFromJson, type CopeTokenizer } from './tokenizer.js';

/** Reads `<dir>/tokenizer.json` and `<dir>/tokenizer_config.json` (the latter optional). */
export async function loadTokenizer(dir: string): Promise<CopeTokenizer> {
  const tokFile = path.join(dir, 'tokenizer.json');
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  let tokJson: unknown;
  try {
    tokJson = JSON.parse(await fs.readFile(tokFile, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${tokFile}: ${code === 'ENOENT' ? 'file not found (a tokenizer folder needs tokenizer.json)' : `not valid JSON (${(e as Error).message})`}`);
  }
  let config: unknown = {};
  try {
    config = JSON.parse(await fs.readFile(cfgFile, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${cfgFile}: not valid JSON (${(e as Error).message})`);
  }
  return tokenizerFromJson(tokJson, config, dir);
}
