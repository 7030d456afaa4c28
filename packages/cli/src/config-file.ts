import { keyPath } from '@cope/core';
import { promises as fs } from 'node:fs';
import YAML from 'yaml';
import { checkRunConfig, type RunConfig } from '@cope/pipeline';

/**
 * Reads a YAML or JSON config file (by extension) and merges it over `defaults` and `flags` over both, then
 * validates the whole, trainer settings included, before anything runs. Errors name where the bad value came
 * from (the file or the flags) and its key path: `run.yaml: tam.learningRate: Too small: ... (got -1)`.
 */
export async function loadRunConfig(file: string | undefined, flags: Record<string, unknown>, defaults: Record<string, unknown> = {}): Promise<RunConfig> {
  let fromFile: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      throw new Error(`${file}: config file not found`);
    }
    let parsed: unknown;
    try {
      parsed = (/\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text)) ?? {};
    } catch (e) {
      throw new Error(`${file}: cannot parse (${(e as Error).message})`);
    }
    if (!isPlainObject(parsed)) throw new Error(`${file}: expected a mapping of settings at the top level`);
    fromFile = parsed;
  }
  const checked = checkRunConfig(mergeOver(mergeOver(defaults, fromFile), flags));
  if ('config' in checked) return checked.config;
  const { issue } = checked;
  // Name where the bad value came from: a flag, or the file.
  const fromFlag = issue.path.length > 0 && issue.path.reduce<unknown>((o, k) => (isPlainObject(o) ? o[k as string] : undefined), flags) !== undefined;
  throw new Error(`${fromFlag ? 'command-line flags' : file ?? 'config'}: ${keyPath(issue.path)}: ${issue.message}`);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` merged into `base`, objects key by key at every depth; undefined values leave `base` as it is. */
function mergeOver(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeOver(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}
