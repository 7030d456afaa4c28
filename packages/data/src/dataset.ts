import { keyPath } from '@cope/core';
import { z } from 'zod';
import { TASKS, type LampTaskId, type TaskName, type TaskSpec } from './tasks.js';

/** A query of a user: the raw LaMP instruction, and (for training users) the gold output. */
export interface Query {
  id: string;
  input: string;
  gold?: string;
}

export interface ProfileRecord {
  id: string;
  [field: string]: unknown;
}

/** A user record of `user_others.json` / `user_top_100_history.json`. */
export interface UserRecord {
  user_id?: string;
  user_name?: string;
  profile: ProfileRecord[];
  query: Query[];
  [key: string]: unknown;
}

/** `{task, golds: [{id, output}]}`: labels and predictions share this shape. */
export interface LabelFile {
  task: string;
  golds: Array<{ id: string; output: string }>;
  [key: string]: unknown;
}

/** A data-file validation error; the message names the file and the exact element. */
export class DataValidationError extends Error {
  constructor(readonly file: string, readonly at: string, readonly problem: string) {
    super(`${file}: ${at}: ${problem}`);
    this.name = 'DataValidationError';
  }
}

const id = z.union([z.string(), z.number()]).transform(String);

interface UserSchemaOptions {
  /** Every query carries its `gold` output (TAM's training users). */
  requireGold: boolean;
  /** The profile holds at least one item (target users: their OPPU adapter trains on it). */
  requireProfile?: boolean;
  extraItemFields?: Record<string, z.ZodTypeAny>;
}

function userSchema(task: TaskSpec, opts: UserSchemaOptions) {
  const item = z
    .object({ id, ...Object.fromEntries(task.profileFields.map((f) => [f, z.string()])), ...(opts.extraItemFields ?? {}) })
    .passthrough();
  const query = z.object({ id, input: z.string(), gold: opts.requireGold ? z.string() : z.string().optional() }).passthrough();
  return z
    .object({
      user_id: id.optional(),
      user_name: id.optional(),
      profile: opts.requireProfile ? z.array(item).min(1, { message: 'empty profile: a target user needs at least one profile item to train an OPPU adapter on' }) : z.array(item),
      query: z.array(query),
    })
    .passthrough()
    .refine((u) => u.user_id !== undefined || u.user_name !== undefined, { message: 'expected a user_id or user_name' });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union') return 'expected a string or a number';
  if (issue.code === 'invalid_type') {
    const exp = (issue as { expected: string }).expected;
    const article = /^[aeiou]/.test(exp) ? 'an' : 'a';
    return `expected ${article} ${exp}`;
  }
  return issue.message;
}

/** Where in a file of users an issue lies, for its message: the task and the user's id (or name). */
function userContext(raw: unknown, issuePath: ReadonlyArray<PropertyKey>, task: TaskSpec | undefined): string {
  const parts = task ? [`task ${task.name}`] : [];
  const index = issuePath[0];
  const user = typeof index === 'number' && Array.isArray(raw) ? (raw[index] as Record<string, unknown> | undefined) : undefined;
  if (user && typeof user === 'object') {
    if (user.user_id !== undefined) parts.push(`user_id ${JSON.stringify(user.user_id)}`);
    else if (user.user_name !== undefined) parts.push(`user_name ${JSON.stringify(user.user_name)}`);
  }
  return parts.length ? ` (${parts.join(', ')})` : '';
}

function validate<T>(schema: z.ZodTypeAny, raw: unknown, file: string, task?: TaskSpec): T {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new DataValidationError(file, keyPath(issue.path), describeIssue(issue) + userContext(raw, issue.path, task));
  }
  return r.data as T;
}

/**
 * `bytes` as UTF-8 text; invalid bytes are refused with the byte offset of the first (a replacement character
 * would otherwise slip into prompts and training text unseen).
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Not UTF-8: find the first bad byte below.
  }
  const text = new TextDecoder('utf-8').decode(bytes);
  for (let at = text.indexOf('\uFFFD'); at >= 0; at = text.indexOf('\uFFFD', at + 1)) {
    const offset = new TextEncoder().encode(text.slice(0, at)).length;
    // A real U+FFFD in the file is the three bytes EF BF BD; anything else there is a decoding error.
    if (!(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) {
      throw new Error(`${file}: not valid UTF-8 at byte offset ${offset} (byte 0x${bytes[offset].toString(16).padStart(2, '0')})`);
    }
  }
  return text;
}

/** Validates a list of user records for `task` (names the file and element on error). */
export function validateUsers(raw: unknown, task: TaskSpec, file: string, opts: Partial<UserSchemaOptions> = {}): UserRecord[] {
  return validate<UserRecord[]>(z.array(userSchema(task, { ...opts, requireGold: opts.requireGold ?? false })), raw, file, task);
}

/** Validates a `{task, golds}` label or prediction file. */
export function validateLabels(raw: unknown, file: string, expectedTask?: LampTaskId): LabelFile {
  const f = validate<LabelFile>(z.object({ task: z.string(), golds: z.array(z.object({ id, output: z.string() }).passthrough()) }).passthrough(), raw, file);
  if (expectedTask && f.task !== expectedTask) throw new DataValidationError(file, 'task', `expected "${expectedTask}", got "${f.task}"`);
  const seen = new Set<string>();
  f.golds.forEach((g, i) => {
    if (seen.has(g.id)) throw new DataValidationError(file, `golds[${i}].id`, `duplicate id "${g.id}"`);
    seen.add(g.id);
  });
  return f;
}

/** The files of one task folder `data/<task>/`. */
export const DATA_FILES = {
  others: 'user_others.json',
  users: 'user_top_100_history.json',
  labels: 'user_top_100_history_label.json',
  withNegatives: 'user_top_100_history_with_pseudo_negatives.json',
  selected: (mode: 'max' | 'min') => `user_top_100_history_with_pseudo_negatives_${mode}.json`,
} as const;

/** Query ids of the users must be exactly the label ids; the error lists what is missing or extra. */
export function checkQueryIdsMatchLabels(users: UserRecord[], labels: LabelFile, usersFile: string, labelsFile: string): void {
  const q = new Set(users.flatMap((u) => u.query.map((x) => String(x.id))));
  const l = new Set(labels.golds.map((g) => g.id));
  const missing = [...q].filter((x) => !l.has(x));
  const extra = [...l].filter((x) => !q.has(x));
  if (missing.length || extra.length) {
    const parts = [];
    if (missing.length) parts.push(`query ids without a label: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` (+${missing.length - 10} more)` : ''}`);
    if (extra.length) parts.push(`label ids without a query: ${extra.slice(0, 10).join(', ')}${extra.length > 10 ? ` (+${extra.length - 10} more)` : ''}`);
    throw new Error(`${labelsFile} does not match ${usersFile}: ${parts.join('; ')}`);
  }
}

/** The fields a pseudo-negative file adds to each profile item (`..._with_pseudo_negatives.json`). */
const NEGATIVE_FIELDS = { pseudo_negative: z.array(z.string()).optional() };
/** The fields a selected-negative file adds (`..._with_pseudo_negatives_{max,min}.json`). */
const SELECTED_FIELDS = {
  ...NEGATIVE_FIELDS,
  OPPU_scores: z.array(z.number()).optional(),
  base_scores: z.array(z.number()).optional(),
  score_differences: z.array(z.number()).optional(),
  final_score_difference: z.number().optional(),
  negative_response: z.string().optional(),
};

/** Validates `user_others.json`'s content (TAM training users: every query needs its gold); errors name `file`. */
export function validateOtherUsers(raw: unknown, task: TaskName, file: string): UserRecord[] {
  return validateUsers(raw, TASKS[task], file, { requireGold: true });
}

/** Validates the target users' content (`user_top_100_history.json`: every user needs a profile). */
export function validateTargetUsers(raw: unknown, task: TaskName, file: string): UserRecord[] {
  return validateUsers(raw, TASKS[task], file, { requireProfile: true });
}

/**
 * Validates a pseudo-negative file's content (`negatives`: `..._with_pseudo_negatives.json`) or a selected-negative
 * file's (`selected`: `..._with_pseudo_negatives_{max,min}.json`).
 */
export function validateUsersWithNegatives(raw: unknown, task: TaskName, file: string, kind: 'negatives' | 'selected'): UserRecord[] {
  return validateUsers(raw, TASKS[task], file, { extraItemFields: kind === 'negatives' ? NEGATIVE_FIELDS : SELECTED_FIELDS });
}

/**
 * Validates one user's record from a run's per-user part (`parts/.../user_<i>.json`) as the assembled files are:
 * `negatives` (sampled candidates) or `selected` (scored, with the chosen negative).
 */
export function validateUserPart(raw: unknown, task: TaskName, file: string, kind: 'negatives' | 'selected'): UserRecord {
  const schema = userSchema(TASKS[task], { extraItemFields: kind === 'negatives' ? NEGATIVE_FIELDS : SELECTED_FIELDS, requireGold: false });
  return validate<UserRecord>(schema, raw, file, TASKS[task]);
}

/** A user's display id: `user_id`, else `user_name`. */
export function userKey(u: UserRecord): string {
  return String(u.user_id ?? u.user_name);
}
