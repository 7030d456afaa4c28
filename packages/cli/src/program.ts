import { Command, CommanderError } from 'commander';
import { registerDataCommands } from './commands/data-commands.js';
import { registerEvalCommand } from './commands/eval-command.js';
import { registerModelCommands } from './commands/model-commands.js';
import { registerGenerateCommand } from './commands/generate-command.js';
import { registerPipelineCommands } from './commands/pipeline-commands.js';
import { registerBrowserCommands } from './commands/browser-commands.js';
import { processIo, type CliIo } from './io.js';
import { heapExhaustionNote } from '@cope/model';

/** Builds the `cope` program. */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('cope')
    .description('CoPe: personalized LLM decoding via contrasting personal preference')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  registerDataCommands(program, io);
  registerModelCommands(program, io);
  registerGenerateCommand(program, io);
  registerEvalCommand(program, io);
  registerPipelineCommands(program, io);
  registerBrowserCommands(program, io);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/**
 * Runs the CLI on `argv` (without the node and script entries). Returns the exit code; errors are
 * printed as one `error: …` line, never a stack trace.
 */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    io.err(`error: ${(e as Error).message}${heapExhaustionNote()}`);
    return 1;
  }
}
