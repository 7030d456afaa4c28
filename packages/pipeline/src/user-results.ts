import { memoryStore, readText, type FileStore } from '@cope/core';
import { validateUserPart, type TaskName, type UserRecord } from '@cope/data';
import { trainingFinished } from '@cope/sft';

/** A trained adapter of a task: its TAM, or a user's OPPU or DPO adapter. */
export type AdapterStage = 'tam' | 'oppu' | 'dpo';

/**
 * A per-user result: the sampled pseudo-negatives, the scored selection (by `--std`), or a predictions file's
 * outputs (by its name, e.g. `CoPe`).
 */
export type UserPart = { kind: 'negatives' } | { kind: 'selected'; selection: string } | { kind: 'output'; name: string };

/**
 * Where the per-user stages keep what they make: a run folder (`TaskStore`) or memory (a browser tab,
 * {@link memoryResults}). Parts are JSON, read back through @cope/data's validators, the same way in both.
 */
export interface UserResults {
  /** The files of a trained adapter (`user` for OPPU and DPO). */
  adapterFiles(stage: AdapterStage, user?: number): FileStore;
  /** Whether that adapter's trainer finished. */
  isTrained(stage: AdapterStage, user?: number): Promise<boolean>;
  hasPart(part: UserPart, user: number): Promise<boolean>;
  /** A negatives or selected part, validated as the task's user record with those fields. */
  readPart(part: UserPart & { kind: 'negatives' | 'selected' }, user: number, task: TaskName): Promise<UserRecord>;
  /** User `user`'s outputs for a predictions file (by its name, e.g. `CoPe`), in query order. */
  readOutputs(name: string, user: number): Promise<Array<{ id: string; output: string }>>;
  /** Writes user `user`'s part (atomically in a folder). */
  writePart(part: UserPart, user: number, value: unknown): Promise<void>;
}

/** The name of a part in {@link memoryResults}' file store (a run folder's `parts/` layout). */
const partName = (part: UserPart, user: number): string =>
  `${part.kind === 'negatives' ? 'pseudo_negatives' : part.kind === 'selected' ? `scores_${part.selection}` : `output/${part.name}`}/user_${user}.json`;

/** {@link UserResults} in memory: adapters and parts as the files a run folder would hold (`files` is open to read). */
export function memoryResults(): UserResults & { files: FileStore } {
  const files = memoryStore('<memory>');
  const partJson = async (part: UserPart, user: number): Promise<unknown> => {
    const text = await readText(files, partName(part, user));
    if (text === null) throw new Error(`<memory>/${partName(part, user)}: no such part`);
    return JSON.parse(text);
  };
  const stores = new Map<string, FileStore>();
  const adapterFiles = (stage: AdapterStage, user?: number): FileStore => {
    const key = user === undefined ? stage : `${stage}/user_${user}`;
    let s = stores.get(key);
    if (!s) {
      const prefix = `${key}/`;
      s = {
        location: `<memory>/${key}`,
        read: (name) => files.read(prefix + name),
        write: (name, data) => files.write(prefix + name, data),
        append: (name, text) => files.append(prefix + name, text),
        remove: (name) => files.remove(prefix + name),
      };
      stores.set(key, s);
    }
    return s;
  };
  return {
    files,
    adapterFiles,
    isTrained: (stage, user) => trainingFinished(adapterFiles(stage, user)),
    hasPart: async (part, user) => (await files.read(partName(part, user))) !== null,
    readPart: async (part, user, task) => validateUserPart(await partJson(part, user), task, `<memory>/${partName(part, user)}`, part.kind),
    readOutputs: async (name, user) => (await partJson({ kind: 'output', name }, user)) as Array<{ id: string; output: string }>,
    writePart: (part, user, value) => files.write(partName(part, user), JSON.stringify(value)),
  };
}
