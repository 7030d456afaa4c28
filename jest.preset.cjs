// Shared jest settings: TypeScript through SWC (type checking is `pnpm typecheck`'s job),
// workspace packages resolved to their sources so tests never need a build.
const path = require('node:path');
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  moduleNameMapper: {
    '^@cope/(core|data|model|sft|dpo|decoding|negatives|metrics|pipeline|web|cli|backend-native)$': path.join(__dirname, 'packages/$1/src/index.ts'),
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^#testing$': path.join(__dirname, 'tools/testing/fixtures.ts'),
    '^#testing/models$': path.join(__dirname, 'tools/testing/models.ts'),
    '^#testing/temp$': path.join(__dirname, 'tools/testing/temp.ts'),
  },
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/src/**/*.test.ts'],
  testTimeout: 120000,
  reporters: ['default', path.join(__dirname, 'tools/testing/summary-reporter.cjs')],
};
