/** Messages between the page (main thread) and its Web Worker, which holds the models and runs every stage. */
import type { UserRecord } from '@cope/data';
import type { MethodSettings, PipelineEvent } from '@cope/pipeline';
import type { PageMethod } from '../src/routes.js';

export { PAGE_METHODS, type PageMethod } from '../src/routes.js';

/** A user record as the task's data files hold it (@cope/data's validated shape). */
export type UserJson = UserRecord;

export type ToWorker =
  /** Loads the base model, tokenizer, the task's TAM and its users (URLs served by `@cope/web`'s server). */
  | { type: 'open'; task: string; settings: Partial<MethodSettings>; threads: number }
  /** Trains and decodes user `user` (an embedded user's index, or `record` typed in the page). */
  | { type: 'personalize'; user: number; record?: UserJson }
  /** Decodes one query with a method for the personalized user, streaming its text. */
  | { type: 'generate'; method: PageMethod; input: string }
  /** The user's outputs for its own queries with a method (the check). */
  | { type: 'outputs'; method: PageMethod }
  /** The personalized user's CoPe adapter (OPPU + DPO) as a PEFT folder's files. */
  | { type: 'adapter' };

export type FromWorker =
  | { type: 'opened'; users: UserJson[]; backend: string; settings: MethodSettings }
  | { type: 'event'; event: PipelineEvent }
  | { type: 'personalized'; user: number; seconds: number }
  | { type: 'token'; method: PageMethod; text: string }
  | { type: 'generated'; method: PageMethod; output: string; seconds: number }
  | { type: 'outputs'; method: PageMethod; outputs: Array<{ id: string; output: string }> }
  | { type: 'adapter'; files: Array<{ name: string; bytes: Uint8Array }> }
  | { type: 'error'; message: string };

export { ROUTES } from '../src/routes.js';
