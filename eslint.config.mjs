import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'lib/',
      'dist/',
      'assets/',
      'bin/',
      '**/cdk.out/',
      'coverage/',
      'src/**/*.generated.ts',
      '**/*.d.ts',
      '.jsii',
      'bench/.out/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/prefer-nullish-coalescing': 'off',
    },
  },
  {
    // Defaults use ??, never || (DEVELOPERS.md style): checked with type information.
    files: ['src/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    ignores: ['src/**/*.generated.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.dev.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/prefer-nullish-coalescing': [
        'error',
        { ignoreConditionalTests: true, ignoreMixedLogicalExpressions: true, ignorePrimitives: { boolean: true } },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.lambda.ts', 'src/cli/**', 'src/**/runtime/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['*.lambda', '**/*.lambda'], message: 'Construct code never imports Lambda handler code.' },
            {
              group: ['./runtime/*', '**/runtime/*', '**/cli/*'],
              message:
                'Construct code never imports run-time code (src/**/runtime/, src/cli/): it is bundled, not compiled by jsii.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        module: 'writable',
        require: 'readonly',
        __dirname: 'readonly',
      },
    },
  },
);
