import type { Command } from 'commander';
import { evaluateLampFiles, LAMP_TASK_IDS, type LampTaskId } from '@cope/metrics';
import type { CliIo } from '../io.js';

/** `cope eval`. */
export function registerEvalCommand(program: Command, io: CliIo): void {
  program
    .command('eval')
    .description('Score predictions against golds (ROUGE-1, ROUGE-L, METEOR as LaMP computes them); prints JSON')
    .requiredOption('--task <id>', LAMP_TASK_IDS.join(' | '))
    .requiredOption('--golds <file>', 'gold file {task, golds: [{id, output}]}')
    .requiredOption('--preds <file>', 'predictions file, same shape')
    .option('--output-file <file>', 'write "results" into this file (as the reference script does)')
    .option('--per-example', 'also list per-example scores')
    .action(async (o) => {
      if (!(LAMP_TASK_IDS as readonly string[]).includes(o.task)) throw new Error(`--task: unknown "${o.task}" (expected one of ${LAMP_TASK_IDS.join(', ')})`);
      const r = await evaluateLampFiles(o.task as LampTaskId, o.golds, o.preds, { outputFile: o.outputFile, perExample: o.perExample });
      io.out(JSON.stringify(r));
    });
}
