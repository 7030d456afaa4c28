import type { Command } from 'commander';
import { loadTokenizer } from '@cope/data';
import type { CliIo } from '../io.js';

/** `cope tokenize`. */
export function registerDataCommands(program: Command, io: CliIo): void {
  program
    .command('tokenize')
    .description('Print {"ids": [...]} for a text (special tokens added as Python tokenizer(text) does)')
    .requiredOption('--tokenizer <dir>', 'folder with tokenizer.json (and tokenizer_config.json)')
    .requiredOption('--text <text>', 'text to encode')
    .option('--no-special', 'do not add BOS/EOS')
    .action(async (o) => {
      const tok = await loadTokenizer(o.tokenizer);
      io.out(JSON.stringify({ ids: tok.encode(o.text, { addSpecialTokens: o.special }) }));
    });
}
