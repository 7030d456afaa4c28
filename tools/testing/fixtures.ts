/**
 * Test helper shared by every package's tests (never shipped): locates ../shared/fixtures and makes a
 * fixture-based suite fail, not skip, when CI is set and a fixture is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Root of the independent reference fixtures: `COPE_FIXTURES`, else `<repo>/../shared/fixtures`. */
export const FIXTURES = process.env.COPE_FIXTURES ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures');

export function fixture(...parts: string[]): string {
  return path.join(FIXTURES, ...parts);
}

export function readFixtureJson<T = any>(...parts: string[]): T {
  return JSON.parse(readFileSync(fixture(...parts), 'utf8')) as T;
}

/**
 * `describe` that runs when every listed fixture path exists; otherwise fails under CI and skips
 * (with a visible note) elsewhere.
 */
export function describeWithFixtures(name: string, required: string[], fn: () => void): void {
  const missing = required.filter((r) => !existsSync(fixture(r)));
  if (missing.length === 0) {
    describe(name, fn);
  } else if (process.env.CI) {
    describe(name, () => {
      test('fixtures are present', () => {
        throw new Error(`missing fixture(s) under ${FIXTURES}: ${missing.join(', ')}`);
      });
    });
  } else {
    describe.skip(`${name} (missing fixtures: ${missing.join(', ')})`, fn);
  }
}
