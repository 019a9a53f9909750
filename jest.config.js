/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/bench'],
  modulePathIgnorePatterns: ['<rootDir>/bench/.out/'],
  testMatch: ['**/*.test.ts'],
  // ts-jest transpiles each file on its own (types are checked by `npm run typecheck`).
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.dev.json', isolatedModules: true, diagnostics: false }] },
  moduleNameMapper: { '^platform-orchestrator-ecs-runner$': '<rootDir>/src/index.ts' },
  testTimeout: 120000,
  maxWorkers: 2,
};
