/** @cope/cli — the `cope` command. */
export { runCli } from './program.js';
export type { CliIo } from './io.js';
