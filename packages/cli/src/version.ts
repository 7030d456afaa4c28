import { createRequire } from 'node:module';

/** This package's version (recorded in a run's manifest). */
export function cliVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}
