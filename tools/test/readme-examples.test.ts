import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FIXTURES } from '../testing/fixtures.js';
import { tempDir } from '../testing/temp.js';

/**
 * Each package README's TypeScript example runs as written: its ```ts blocks, in order, as one ES module run from
 * the repository root against the built packages (`pnpm test` builds first), reading the repository's `fixtures/` (or
 * `COPE_FIXTURES`) where the README says `fixtures/`. Temporary files the examples write go to a folder removed afterwards.
 */
const root = path.resolve(__dirname, '..', '..');
const PACKAGES = ['core', 'data', 'backend-native', 'model', 'sft', 'dpo', 'decoding', 'negatives', 'metrics', 'pipeline', 'web'];
/** What examples print, where their README comments say it. */
const PRINTS: Record<string, RegExp[]> = {
  core: [/^(\d) \1$/m, /^run\.yaml: tam\.learningRate: Too small$/m],
  model: [/^\[ 2, 3, 320 \] -\d+\.\d+$/m, /^true$/m],
  metrics: [/^0\.6666666666666666$/m, /^0\.996$/m, /'rouge-1': 0\.666/],
  'backend-native': [/^\[ \[ 3, 3 \], \[ 3, 3 \] \]$/m],
  pipeline: [/^news_headline tam done$/m, /^CoPe 0\.\d{4}$/m, /output\/news_headline\/CoPe\.json$/m],
  web: [/^5 CoPe outputs, the first: \{"id":"net0q0","output":"[^"]*"\}$/m],
};

function exampleOf(pkg: string): string {
  const readme = readFileSync(path.join(root, 'packages', pkg, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  if (blocks.length === 0) throw new Error(`packages/${pkg}/README.md: no \`\`\`ts example`);
  return blocks
    .join('\n')
    .replace(/from '@cope\/([a-z-]+)'/g, (_, name: string) => `from '${pathToFileURL(path.join(root, 'packages', name, 'dist', 'index.js')).href}'`)
    .replaceAll("'fixtures/", `'${FIXTURES}/`);
}

describe('package README examples', () => {
  test.each(PACKAGES)('@cope/%s: the README example runs as written', (pkg) => {
    const code = exampleOf(pkg);
    if (code.includes(FIXTURES) && !existsSync(FIXTURES)) throw new Error(`missing fixtures under ${FIXTURES} (the @cope/${pkg} example reads them)`);
    const dir = tempDir(`cope-readme-${pkg}-`);
    const file = path.join(dir, 'example.mjs');
    writeFileSync(file, code);
    // Plain output: the test runner may set FORCE_COLOR, which would colour console.log's numbers.
    const { FORCE_COLOR: _colour, ...env } = process.env;
    const r = spawnSync(process.execPath, [file], { cwd: root, env: { ...env, NO_COLOR: '1', TMPDIR: dir }, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`@cope/${pkg} README example failed (exit ${r.status}):\n${r.stderr || r.error}`);
    expect(r.stderr).not.toMatch(/Error/);
    for (const re of PRINTS[pkg] ?? []) expect(r.stdout).toMatch(re);
  }, 150_000);
});
