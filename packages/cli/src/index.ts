/** @cope/cli — the `cope` command. */
export { buildProgram, runCli } from './program.js';
export type { CliIo } from './io.js';
