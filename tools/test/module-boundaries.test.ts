import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/** Lints `code` as if it were `file`, through the real `eslint` CLI and the repo's config. */
async function lint(file: string, code: string): Promise<string[]> {
  const r = spawnSync(path.join(root, 'node_modules', '.bin', 'eslint'), ['--stdin', '--stdin-filename', file, '--format', 'json'], {
    cwd: root, input: code, encoding: 'utf8', env,
  });
  if (!r.stdout) throw new Error(`eslint produced no output: ${r.stderr}`);
  const [result] = JSON.parse(r.stdout.slice(r.stdout.indexOf('[{'))) as Array<{ messages: Array<{ ruleId: string; message: string }> }>;
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

beforeAll(() => {
  // The boundary rule reads Nx's cached project graph; computing it once makes this test standalone.
  const r = spawnSync(path.join(root, 'node_modules', '.bin', 'nx'), ['show', 'projects'], { cwd: root, encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`nx show projects failed: ${r.stderr}`);
});

describe('package boundaries (design.md "may depend on") are enforced by lint', () => {
  test('metrics may not import model (no tfjs in metrics)', async () => {
    const msgs = await lint('packages/metrics/src/forbidden.ts', "import { tf } from '@cope/model';\nexport const x = tf;\n");
    expect(msgs.some((m) => m.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
  });
  test('decoding may not import data; data may not import model', async () => {
    expect((await lint('packages/decoding/src/forbidden.ts', "import { TASKS } from '@cope/data';\nexport const x = TASKS;\n")).some((m) => m.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
    expect((await lint('packages/data/src/forbidden.ts', "import { tf } from '@cope/model';\nexport const x = tf;\n")).some((m) => m.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
  });
  test('core imports no other package; every package may import core', async () => {
    expect((await lint('packages/core/src/forbidden.ts', "import { tf } from '@cope/model';\nexport const x = tf;\n")).some((m) => m.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
    expect(await lint('packages/metrics/src/allowed.ts', "import { keyPath } from '@cope/core';\nexport const x = keyPath;\n")).toEqual([]);
  });
  test('the pipeline may not import the CLI or a backend; the CLI may import the pipeline', async () => {
    expect((await lint('packages/pipeline/src/forbidden.ts', "import { runCli } from '@cope/cli';\nexport const x = runCli;\n")).some((m) => m.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
    expect((await lint('packages/pipeline/src/forbidden.ts', "import { NATIVE_BACKEND } from '@cope/backend-native';\nexport const x = NATIVE_BACKEND;\n")).some((m) => m.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
    expect(await lint('packages/cli/src/allowed.ts', "import { METHODS } from '@cope/pipeline';\nexport const x = METHODS;\n")).toEqual([]);
  });
  test('the browser package and its page may not import the CLI or the native backend', async () => {
    for (const file of ['packages/web/src/forbidden.ts', 'packages/web/page/forbidden.ts']) {
      expect((await lint(file, "import { runCli } from '@cope/cli';\nexport const x = runCli;\n")).some((m) => m.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
      expect((await lint(file, "import { NATIVE_BACKEND } from '@cope/backend-native';\nexport const x = NATIVE_BACKEND;\n")).some((m) => m.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
    }
    expect(await lint('packages/web/page/allowed.ts', "import { personalizeUser } from '@cope/pipeline';\nexport const x = personalizeUser;\n")).toEqual([]);
  });
  test('an allowed import passes', async () => {
    const msgs = await lint('packages/negatives/src/allowed.ts', "import { generate } from '@cope/decoding';\nexport const x = generate;\n");
    expect(msgs.filter((m) => m.startsWith('@nx/enforce-module-boundaries'))).toEqual([]);
  });
  test('Math.random is rejected in favour of the seeded RNG', async () => {
    const msgs = await lint('packages/model/src/random.ts', 'export const x = Math.random();\n');
    expect(msgs.some((m) => m.startsWith('no-restricted-properties'))).toBe(true);
  });
});
