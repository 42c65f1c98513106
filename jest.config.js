/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true } }],
  },
  // middy ships ESM only; let ts-jest turn it into CommonJS like our own code.
  // teeny-request (used by @google-cloud/bigquery) imports node-fetch 3, ESM only, dynamically.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|oauth4webapi|teeny-request|node-fetch|fetch-blob|data-uri-to-buffer|formdata-polyfill|node-domexception)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};
