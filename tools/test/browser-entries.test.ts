import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The browser entries (`exports["."].browser` in a package.json) must not reach Node: every module they import,
 * through relative imports and other cope-ts packages (their browser entries where they have one), is read and
 * checked for Node built-in modules and Node-only globals. Third-party packages are browser libraries already.
 */
const root = path.resolve(__dirname, '..', '..');
const NODE_ONLY = /from\s+'(node:[^']+|fs|path|os|url|module|crypto|child_process|worker_threads)'|\bBuffer\.|\bprocess\.|__dirname|\brequire\(/;

/** The source file of a package's browser entry, or of its main entry when it has none. */
function entryOf(pkg: string): string {
  const dir = path.join(root, 'packages', pkg);
  const exports = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).exports?.['.'] ?? {};
  const dist: string = exports.browser ?? exports.import;
  return path.join(dir, 'src', path.basename(dist).replace(/\.js$/, '.ts'));
}

/** Every module reachable from `entry`, with the Node-only lines each holds. */
function reach(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const code = readFileSync(file, 'utf8');
    const lines = code.split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l));
    seen.set(file, lines.filter((l) => NODE_ONLY.test(l)).map((l) => l.trim()));
    for (const m of code.matchAll(/from\s+'([^']+)'/g)) {
      const spec = m[1];
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
        if (existsSync(target)) visit(target);
      } else if (spec.startsWith('@cope/')) {
        visit(entryOf(spec.slice('@cope/'.length)));
      }
    }
  };
  visit(entry);
  return seen;
}

describe('browser entries reach no Node-only code', () => {
  // Packages with file readers or a Node addon have a browser entry of their own; the others' one entry is browser code.
  test.each([
    ['core', 'browser.ts'], ['data', 'browser.ts'], ['backend-native', 'browser.ts'], ['model', 'browser.ts'],
    ['sft', 'index.ts'], ['dpo', 'index.ts'], ['negatives', 'index.ts'], ['decoding', 'index.ts'], ['pipeline', 'browser.ts'],
  ])('@cope/%s (%s)', (pkg, file) => {
    const entry = entryOf(pkg);
    expect(path.basename(entry)).toBe(file);
    const modules = reach(entry);
    const offending = [...modules].filter(([, lines]) => lines.length).map(([file, lines]) => `${path.relative(root, file)}: ${lines.join(' | ')}`);
    expect(offending).toEqual([]);
    expect(modules.size).toBeGreaterThan(pkg === 'core' || pkg === 'backend-native' ? 2 : 8);
  });

  test('the check finds Node-only code where it is (the Node entries read files)', () => {
    const nodeEntry = (pkg: string) => [...reach(path.join(root, 'packages', pkg, 'src', 'index.ts'))].filter(([, l]) => l.length).map(([f]) => path.basename(f));
    expect(nodeEntry('core')).toEqual(expect.arrayContaining(['atomic.ts', 'json-file.ts']));
    expect(nodeEntry('data')).toEqual(expect.arrayContaining(['tokenizer-files.ts', 'dataset-files.ts']));
  });
});
