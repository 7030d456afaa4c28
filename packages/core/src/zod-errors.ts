/** A key path as config and data errors print it: `users[3].profile[0].title`; `(root)` for the whole value. */
export function keyPath(p: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s || '(root)';
}

/** The part of a failed zod parse these messages read: its issues' key paths and messages. */
export interface ParseIssues {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}

/**
 * `source: key.path: message` for the first issue of a failed parse (zod's `error`), plus `hint`: the one format
 * of every config-file and settings error (`config.json: rope_scaling.factor: Too small: expected number to be >0`).
 */
export function parseProblem(source: string, error: ParseIssues, hint = ''): string {
  const issue = error.issues[0];
  return `${source}: ${keyPath(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}${hint}`;
}
