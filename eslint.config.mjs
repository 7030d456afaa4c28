// Lint: TypeScript rules plus Nx module boundaries, which enforce the "may depend on" column of the
// package table in ../shared/docs/design.md through the `scope:*` tags in each package.json.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Which package may import which (design.md, package table). */
export const allowedDependencies = {
  core: [],
  data: ['core'],
  'backend-native': ['core'],
  model: ['core', 'data', 'backend-native'],
  sft: ['core', 'model', 'data'],
  dpo: ['core', 'model', 'data', 'sft'],
  decoding: ['core', 'backend-native', 'model'],
  negatives: ['core', 'model', 'data', 'decoding'],
  metrics: ['core'],
  pipeline: ['core', 'data', 'model', 'sft', 'dpo', 'decoding', 'negatives', 'metrics'],
  web: ['core', 'data', 'model', 'pipeline'],
  cli: ['core', 'data', 'backend-native', 'model', 'sft', 'dpo', 'decoding', 'negatives', 'metrics', 'pipeline', 'web'],
  tools: ['core', 'data', 'backend-native', 'model', 'sft', 'dpo', 'decoding', 'negatives', 'metrics', 'pipeline', 'web', 'cli'],
};

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.cjs', '**/*.mjs', 'data/**', 'bench/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Use the seeded RNG passed down explicitly.' }],
    },
  },
  {
    // Boundaries apply to shipped code; tests import their own package by name to test its public API.
    files: ['packages/*/src/**/*.ts', 'packages/web/page/**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: false,
          depConstraints: Object.entries(allowedDependencies).map(([pkg, deps]) => ({
            sourceTag: `scope:${pkg}`,
            onlyDependOnLibsWithTags: deps.map((d) => `scope:${d}`),
          })),
        },
      ],
    },
  },
];
