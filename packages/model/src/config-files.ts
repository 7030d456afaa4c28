import path from 'node:path';
import { readJsonIfPresent } from '@cope/core';
import { parseModelConfig, type ModelConfig } from './config.js';
import { parseGenerationConfig, stopTokenIdsOf, type GenerationConfig } from './generation-config.js';

/** A model folder's JSON configs on disk: `config.json` and `generation_config.json`. */

/** Reads and normalises `<dir>/config.json`. */
export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const file = path.join(dir, 'config.json');
  const raw = await readJsonIfPresent(file);
  if (raw === undefined) throw new Error(`${file}: file not found (a Hugging Face model folder needs config.json)`);
  return parseModelConfig(raw, file);
}

/** Reads `<dir>/generation_config.json` ({@link parseGenerationConfig}), null when the folder has none. */
export async function readGenerationConfig(dir: string): Promise<GenerationConfig | null> {
  const file = path.join(dir, 'generation_config.json');
  const raw = await readJsonIfPresent(file);
  return raw === undefined ? null : parseGenerationConfig(raw, file);
}

/** The ids that end a generation with the model in `dir` ({@link stopTokenIdsOf} of its generation config). */
export async function stopTokenIds(dir: string, configEosIds: readonly number[], tokenizerEosId?: number | null): Promise<number[]> {
  return stopTokenIdsOf(await readGenerationConfig(dir), configEosIds, tokenizerEosId);
}
