import { Option } from 'commander';
import type { z } from 'zod';

type Shape = Record<string, z.ZodType>;

/** The schema inside defaults and optionals, with the default found on the way. */
function unwrap(schema: z.ZodType): { inner: any; fallback?: unknown } {
  let s: any = schema;
  let fallback: unknown;
  while (s.def.type === 'default' || s.def.type === 'optional' || s.def.type === 'prefault') {
    if (s.def.type === 'default' && fallback === undefined) fallback = s.def.defaultValue;
    s = s.def.innerType;
  }
  return { inner: s, fallback };
}

/**
 * A command-line flag for one setting of a settings schema (the settings' one home): its help is the schema's
 * description, its choices an enum's values; `withDefault` makes the schema's default the flag's (otherwise the
 * help names it, and an absent flag leaves the setting to a config file).
 */
export function schemaOption(shape: Shape, key: string, flags: string, opts: { withDefault?: boolean } = {}): Option {
  const field = shape[key];
  if (!field) throw new Error(`schemaOption: no setting "${key}"`);
  const { inner, fallback } = unwrap(field);
  const described = field.description ?? inner.description;
  if (!described) throw new Error(`schemaOption: setting "${key}" has no description`);
  const shown = fallback === undefined ? '' : ` (default: ${String(fallback)})`;
  const option = new Option(flags, opts.withDefault ? described : `${described}${shown}`);
  if (inner.def.type === 'enum') option.choices(inner.options as string[]);
  if (opts.withDefault && fallback !== undefined) option.default(String(fallback));
  return option;
}
