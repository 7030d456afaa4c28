import { z } from 'zod';

/** One problem of a settings object, ready to print: the key path and what is wrong with its value. */
export interface SettingIssue {
  path: PropertyKey[];
  message: string;
}

/** The object schema inside defaults, optionals and pipes, or null when `schema` holds no object. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | null {
  let s: any = schema;
  for (let depth = 0; depth < 8 && s; depth++) {
    if (s.def?.type === 'object') return s.shape;
    s = s.def?.innerType ?? s.def?.in;
  }
  return null;
}

/** The schema a key path leads to (objects and arrays), or null where it cannot be followed. */
function schemaAt(schema: z.ZodType, path: PropertyKey[]): z.ZodType | null {
  let s: any = schema;
  for (const k of path) {
    while (s && s.def?.type !== 'object' && s.def?.type !== 'array') s = s.def?.innerType ?? s.def?.in;
    if (!s) return null;
    s = typeof k === 'number' ? s.def.element : objectShape(s)?.[String(k)];
  }
  return s ?? null;
}

const shown = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v !== null ? JSON.stringify(v).slice(0, 80) : String(v));

/**
 * `schema.safeParse(value)`'s problems as printable issues: an unknown key is named with the keys the object
 * accepts; any other problem keeps zod's message and adds the value it got.
 */
export function settingIssues(schema: z.ZodType, value: unknown): SettingIssue[] {
  const r = schema.safeParse(value, { reportInput: true });
  return r.success ? [] : describeIssues(schema, r.error.issues);
}

/** zod's issues of a parse of `schema` (made with `reportInput`) as printable issues: see {@link settingIssues}. */
export function describeIssues(schema: z.ZodType, issues: z.core.$ZodIssue[]): SettingIssue[] {
  return issues.map((i) => {
    if (i.code === 'unrecognized_keys' || (i as { keys?: string[] }).keys) {
      const known = Object.keys(objectShape(schemaAt(schema, i.path) ?? schema) ?? {});
      const key = (i as { keys: string[] }).keys[0];
      return { path: [...i.path, key], message: `unknown key${known.length ? ` (expected one of ${known.join(', ')})` : ''}` };
    }
    if (i.code === 'custom') return { path: i.path, message: i.message };
    return { path: i.path, message: `${i.message}${'input' in i ? ` (got ${shown(i.input)})` : ''}` };
  });
}
