import { writeFileAtomic } from '@cope/core';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** A user's part file in a parts folder. */
export const partFile = (partsDir: string, i: number) => path.join(partsDir, `user_${i}.json`);

/** Writes user `i`'s result atomically, so a stopped run never leaves half a part and resumes after the last whole one. */
export async function writePart(partsDir: string, i: number, value: unknown): Promise<void> {
  await fs.mkdir(partsDir, { recursive: true });
  await writeFileAtomic(partFile(partsDir, i), JSON.stringify(value));
}

/** Joins `user_<i>.json` parts (i = 0..count-1) into one list; errors name the missing parts. */
export async function assembleParts<T>(partsDir: string, count: number): Promise<T[]> {
  const out: T[] = [];
  const missing: number[] = [];
  for (let i = 0; i < count; i++) {
    try {
      out.push(JSON.parse(await fs.readFile(partFile(partsDir, i), 'utf8')) as T);
    } catch {
      missing.push(i);
    }
  }
  if (missing.length) throw new Error(`${partsDir}: missing results for users ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ' …' : ''}`);
  return out;
}
