import { createRequire } from 'node:module';

/** The cope-ts packages a run is made with (those the pipeline is built from). */
const PACKAGES = ['core', 'data', 'model', 'sft', 'dpo', 'decoding', 'negatives', 'metrics', 'pipeline'];

/** Each package's version, as its package.json says ('unknown' where it cannot be found). */
export function packageVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const versions: Record<string, string> = {};
  for (const p of PACKAGES) {
    try {
      versions[`@cope/${p}`] = p === 'pipeline' ? require('../package.json').version : require(`@cope/${p}/package.json`).version;
    } catch {
      versions[`@cope/${p}`] = 'unknown';
    }
  }
  return versions;
}
