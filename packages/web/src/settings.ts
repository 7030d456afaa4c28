import { readFile } from 'node:fs/promises';
import { RunStore, methodSettingsSchema, type MethodSettings } from '@cope/pipeline';

/**
 * The method settings of a run folder's last invocation (its manifest.json), so that the page trains and decodes
 * as that `cope run` did. Errors name the file and say how to make one.
 */
export async function runMethodSettings(runDir: string): Promise<MethodSettings> {
  const file = new RunStore(runDir).files.manifest;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`${file}: no run here (the page needs a run folder with the task's TAM: pnpm cope run, or pnpm cope tam --run ${runDir})`);
  }
  const invocations = (JSON.parse(text) as { invocations?: Array<{ config?: Record<string, unknown> }> }).invocations ?? [];
  const config = invocations.at(-1)?.config;
  if (!config) throw new Error(`${file}: invocations[-1].config: expected the run's config`);
  const keys = Object.keys(methodSettingsSchema.shape) as Array<keyof MethodSettings>;
  return methodSettingsSchema.parse(Object.fromEntries(keys.filter((k) => k in config).map((k) => [k, config[k]])));
}
