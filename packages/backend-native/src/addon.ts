import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './addon-types.js';

export type { NativeAddon };

/** Operation codes of native/elementwise.h. */
export const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 } as const;
export const UNARY_OPS = { Exp: 0, Neg: 1, Sigmoid: 2, Rsqrt: 3, Sqrt: 4, Square: 5, Log: 6, Reciprocal: 7, Abs: 8, Tanh: 9, Floor: 10 } as const;
export const REDUCE_OPS = { Sum: 0, Mean: 1, Max: 2, Min: 3 } as const;

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let loaded: { addon: NativeAddon | null; reason: string } | undefined;

/**
 * The addon built at install time (`build/Release/cope_native.node`), or null with the reason: the build's
 * own note (no compiler, no BLAS) or the load error.
 */
export function loadAddon(): { addon: NativeAddon | null; reason: string } {
  if (loaded) return loaded;
  const file = path.join(packageRoot, 'build', 'Release', 'cope_native.node');
  if (!existsSync(file)) {
    const status = path.join(packageRoot, 'build', 'status.txt');
    const why = existsSync(status) ? readFileSync(status, 'utf8').trim() : 'not built (run pnpm install, or node scripts/build.cjs in packages/backend-native)';
    return (loaded = { addon: null, reason: `@cope/backend-native: ${why}` });
  }
  try {
    return (loaded = { addon: createRequire(import.meta.url)(file) as NativeAddon, reason: '' });
  } catch (e) {
    return (loaded = { addon: null, reason: `@cope/backend-native: ${file} does not load (${(e as Error).message})` });
  }
}
