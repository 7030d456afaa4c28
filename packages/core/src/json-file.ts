import { promises as fs } from 'node:fs';

/**
 * A JSON file's parsed content, or undefined when the file cannot be read (absent); content that is not JSON
 * is an error naming the file.
 */
export async function readJsonIfPresent(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}
