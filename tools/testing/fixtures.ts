/**
 * Test helper shared by every package's tests (never shipped): locates the repository's `fixtures/` folder
 * (independent references, see its README) and makes a fixture-based suite fail, never skip, when a file is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Root of the independent reference fixtures: `COPE_FIXTURES`, else `<repo>/fixtures`. */
export const FIXTURES = process.env.COPE_FIXTURES ?? path.resolve(__dirname, '..', '..', 'fixtures');

export function fixture(...parts: string[]): string {
  return path.join(FIXTURES, ...parts);
}

export function readFixtureJson<T = any>(...parts: string[]): T {
  return JSON.parse(readFileSync(fixture(...parts), 'utf8')) as T;
}

/** `describe` whose suite fails with one test naming the missing files when any listed fixture path is absent. */
export function describeWithFixtures(name: string, required: string[], fn: () => void): void {
  const missing = required.filter((r) => !existsSync(fixture(r)));
  if (missing.length === 0) {
    describe(name, fn);
  } else {
    describe(name, () => {
      test('fixtures are present', () => {
        throw new Error(`missing fixture(s) under ${FIXTURES}: ${missing.join(', ')}`);
      });
    });
  }
}
