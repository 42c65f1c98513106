/**
 * Two tiers (docs/architecture.md, "Tests"):
 * - unit: `*.unit.test.ts`, pure functions that need no PostgreSQL, SQS or HTTP server; no
 *   globalSetup, so `npm run test:unit` answers in seconds;
 * - integration: every other test, on the real services that globalSetup starts once per run.
 * `npm test` (and `npx jest`) runs both.
 */
const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // A relative dynamic import names the file as Node will find it after compilation (`./x.js`);
  // the source is `./x.ts`.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    // CommonJS as jest runs it: `import()` becomes `require()` (jest runs no ES modules
    // without --experimental-vm-modules), as esbuild and tsx do for the same code.
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs', moduleResolution: 'node10' } }],
  },
  // middy ships ESM only; let ts-jest turn it into CommonJS like our own code.
  // teeny-request (used by @google-cloud/bigquery) imports node-fetch 3, ESM only, dynamically.
  transformIgnorePatterns: [
    '/node_modules/(?!(@middy|oauth4webapi|teeny-request|node-fetch|fetch-blob|data-uri-to-buffer|formdata-polyfill|node-domexception)/)',
  ],
};

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 2,
  // A run-wide option: jest ignores it inside a project.
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.unit.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.unit\\.test\\.ts$'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
