import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TASKS, type TaskName } from './tasks.js';
import {
  DATA_FILES, checkQueryIdsMatchLabels, decodeUtf8, validateLabels, validateOtherUsers, validateTargetUsers, validateUserPart,
  validateUsersWithNegatives, type LabelFile, type UserRecord,
} from './dataset.js';

/** A file's JSON content, read as strict UTF-8; errors name the file. */
async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = decodeUtf8(await fs.readFile(file), file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!code) throw e;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code})`}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Reads `user_others.json` (TAM training users: every query needs its gold). */
export async function readOtherUsers(dir: string, task: TaskName): Promise<UserRecord[]> {
  const file = path.join(dir, DATA_FILES.others);
  return validateOtherUsers(await readJson(file), task, file);
}

/** Reads the target users and, when present, checks their query ids against the label file. */
export async function readTargetUsers(dir: string, task: TaskName): Promise<{ users: UserRecord[]; labels: LabelFile | null }> {
  const file = path.join(dir, DATA_FILES.users);
  const users = validateTargetUsers(await readJson(file), task, file);
  const labelFile = path.join(dir, DATA_FILES.labels);
  let labels: LabelFile | null = null;
  try {
    await fs.access(labelFile);
    labels = validateLabels(await readJson(labelFile), labelFile, TASKS[task].lampId);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (labels) checkQueryIdsMatchLabels(users, labels, file, labelFile);
  return { users, labels };
}

/** Reads a pseudo-negative file (`user_top_100_history_with_pseudo_negatives.json`). */
export async function readUsersWithNegatives(file: string, task: TaskName): Promise<UserRecord[]> {
  return validateUsersWithNegatives(await readJson(file), task, file, 'negatives');
}

/** Reads a selected-negative file (`..._with_pseudo_negatives_{max,min}.json`). */
export async function readUsersWithSelectedNegatives(file: string, task: TaskName): Promise<UserRecord[]> {
  return validateUsersWithNegatives(await readJson(file), task, file, 'selected');
}

/** Reads one user's record from a run's per-user part file (see {@link validateUserPart}). */
export async function readUserPart(file: string, task: TaskName, kind: 'negatives' | 'selected'): Promise<UserRecord> {
  return validateUserPart(await readJson(file), task, file, kind);
}
