import { readFile } from 'node:fs/promises';
import { fileExists, folderStore, writeFileAtomic, type FileStore } from '@cope/core';
import { readUserPart, type TaskName, type UserRecord } from '@cope/data';
import { trainingFinished } from '@cope/sft';
import type { RunConfig } from './config.js';
import type { StageName } from './stage-names.js';
import { runFiles, taskLayout, type TaskLayout } from './store/layout.js';
import { lockRunFolder, type RunLock } from './store/lock.js';
import { appendManifest } from './store/manifest.js';
import { mergeRuns } from './store/merge.js';
import { assembleParts, partFile, writePart } from './store/parts.js';
import { checkStageSettings } from './store/stage-records.js';
import type { AdapterStage, UserPart, UserResults } from './user-results.js';

export type { RunLock };

/**
 * The only code that knows a run folder: CoPe's layout in it, the lock, the record of the settings each stage
 * was made with, the manifest of invocations, per-user parts (written atomically) and their assembly.
 */
export class RunStore {
  readonly files: ReturnType<typeof runFiles>;

  constructor(readonly runDir: string) {
    this.files = runFiles(runDir);
  }

  /** One task's part of the folder. */
  task(task: TaskName): TaskStore {
    return new TaskStore(taskLayout(this.runDir, task));
  }

  /**
   * Takes the folder's lock for this process: a second run on the same folder refuses at once, naming the holder;
   * a lock left by a killed process of this machine is taken over.
   */
  lock(): Promise<RunLock> {
    return lockRunFolder(this.runDir, this.files.lock);
  }

  /**
   * Before any work: refuses (naming each differing key) when a stage this run would reuse was made with other
   * settings; `redo` deletes those results and what depends on them instead. Then records the requested stages'
   * settings (`stages.json`).
   */
  checkStageSettings(config: RunConfig, stages: readonly StageName[], redo = false): Promise<void> {
    if (config.runDir !== this.runDir) throw new Error(`RunStore of ${this.runDir} given the config of ${config.runDir}`);
    return checkStageSettings(config, stages, redo);
  }

  /** Adds an invocation (config, versions, backend) to `manifest.json`, which keeps them all. */
  appendManifest(entry: Record<string, unknown>): Promise<void> {
    return appendManifest(this.files.manifest, entry);
  }

  /** Copies the results of shard run folders that this folder lacks; returns how many files were copied. */
  mergeFrom(shards: string[]): Promise<number> {
    return mergeRuns(this.runDir, shards);
  }
}

/** One task's results in a run folder: its layout, trained checkpoints, per-user parts and assembled files. */
export class TaskStore implements UserResults {
  constructor(readonly layout: TaskLayout) {}

  /** The folder of a trained adapter: ckpt/TAM/<task>, ckpt/OPPU_SFT/<task>/user_<i>, ckpt/OPPU_SFT+DPO/<task>/user_<i>. */
  adapterDir(stage: AdapterStage, user?: number): string {
    if (stage === 'tam') return this.layout.tam;
    if (user === undefined) throw new Error(`TaskStore: the ${stage} adapter is a user's: give the user`);
    return stage === 'oppu' ? this.layout.oppu(user) : this.layout.dpo(user);
  }

  adapterFiles(stage: AdapterStage, user?: number): FileStore {
    return folderStore(this.adapterDir(stage, user));
  }

  /** Whether a trainer finished there (@cope/sft's record says so; a stopped one resumes from its checkpoint). */
  isTrained(stage: AdapterStage, user?: number): Promise<boolean> {
    return trainingFinished(this.adapterFiles(stage, user));
  }

  /** The parts folder of a kind of part (data/<task>/parts/…, output/<task>/parts/<name>). */
  partsDir(part: UserPart): string {
    if (part.kind === 'negatives') return this.layout.negativesParts;
    return part.kind === 'selected' ? this.layout.selectedParts(part.selection) : this.layout.outputParts(part.name);
  }

  /** The file of user `i`'s part. */
  partFile(part: UserPart, i: number): string {
    return partFile(this.partsDir(part), i);
  }

  hasPart(part: UserPart, i: number): Promise<boolean> {
    return fileExists(this.partFile(part, i));
  }

  readPart(part: UserPart & { kind: 'negatives' | 'selected' }, i: number, task: TaskName): Promise<UserRecord> {
    return readUserPart(this.partFile(part, i), task, part.kind);
  }

  async readOutputs(name: string, i: number): Promise<Array<{ id: string; output: string }>> {
    return JSON.parse(await readFile(this.partFile({ kind: 'output', name }, i), 'utf8')) as Array<{ id: string; output: string }>;
  }

  /** Whether every one of `users` has its part in `partsDir`. */
  async hasParts(partsDir: string, users: number[]): Promise<boolean> {
    return (await Promise.all(users.map((i) => fileExists(partFile(partsDir, i))))).every(Boolean);
  }

  /** Writes user `i`'s part atomically. */
  writePart(part: UserPart, i: number, value: unknown): Promise<void> {
    return writePart(this.partsDir(part), i, value);
  }

  /** The parts of users 0..count-1 in order; the error names missing ones. */
  assemble<T>(partsDir: string, count: number): Promise<T[]> {
    return assembleParts<T>(partsDir, count);
  }

  /** Writes an assembled file atomically, as CoPe's scripts indent them. */
  writeJson(file: string, value: unknown): Promise<void> {
    return writeFileAtomic(file, JSON.stringify(value, null, 1) + '\n');
  }
}
