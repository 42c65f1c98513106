// @ts-check
/**
 * Lint for defects, not taste (formatting is Prettier's, `npm run format:check`): promises
 * nobody awaits or that land where a callback's result is ignored, `any` leaking out of a
 * boundary, awaiting what is not a promise, unused code. Type-aware: each rule sees the types.
 */
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // velocity-grammar.ts is velocityjs's jison-generated parser, vendored with two fixes (see its header): generated, not written here.
  { ignores: ['node_modules/', 'cdk.out/', 'bench/results/', '.satellite/', '**/*.js', '**/*.mjs', 'shared/templates/velocity-grammar.ts'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allow: [{ from: 'lib', name: ['URL', 'URLSearchParams'] }] }],
      // Taste, not defects: an async function without await still turns a throw into a
      // rejection, and String(value) of driver and template values is deliberate throughout.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // A cost, not taste: `z` as a named import is zod's whole namespace object, which pulls
      // every locale into each Lambda bundle (bench/RESULTS.md, "Cold start").
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'] > :matches(ImportSpecifier[imported.name='z'], ImportDefaultSpecifier)",
          message: "Write `import * as z from 'zod'`: esbuild then keeps only what is used.",
        },
      ],
    },
  },
  {
    // Tests read the API's JSON answers (typed `any` on purpose, test/support/stack.ts) and
    // jest's asymmetric matchers are `any`: the any-rules would flag every assertion. The demo
    // is a client of the API in the same way, reading its answers as a person reads them.
    files: ['test/**/*.ts', 'local/demo-story.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The console is typed for the browser by its own tsconfig (DOM, Preact's JSX). Preact's
    // input attributes are a union discriminated by `type` and its event targets are wide:
    // the assertions that pick a member are needed by tsc, yet this rule calls them unnecessary.
    files: ['console/src/**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { projectService: false, project: './console/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-unnecessary-type-assertion': 'off' },
  },
);
