// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** One no-restricted-imports rule per product layer: the rig, and the layers it may not reach. */
function productLayers(layers) {
  return Object.entries(layers).map(([layer, { folders, packages, why }]) => ({
    files: [`${layer}/**`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)local(/|$)|^@ecr-backfill/local',
              message: 'The product must not import the offline rig (local/); pass what it needs in instead.',
            },
            ...folders.map((folder) => ({
              regex: `^(\\.\\.?/)+(.*/)?${folder}${folder.endsWith('$') ? '' : '(/|$)'}`,
              message: why,
            })),
            ...packages.map((regex) => ({ regex, message: why })),
          ],
        },
      ],
    },
  }));
}

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', '**/*.d.ts', 'bin/', 'local/bin/', 'dist/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  // The layers (docs/architecture.md §3): core ← functions, statemachine ← infra, cli. Each product
  // folder may import only the layers below it, and none imports the offline rig (local/).
  // test/package/layers.test.ts checks the same on the whole import graph, type imports included,
  // and that the product has no import circle.
  ...productLayers({
    core: {
      folders: ['functions', 'statemachine', 'infra', 'cli'],
      packages: ['^aws-cdk-lib', '^constructs$', '^@aws-lambda-powertools/', '^aws-lambda$'],
      why: 'core/ is the domain: no Lambda plumbing, no CDK, no Powertools, and no layer above it.',
    },
    functions: {
      folders: ['statemachine', 'infra', 'cli'],
      packages: ['^aws-cdk-lib', '^constructs$'],
      why: 'functions/ holds the steps and their Lambda plumbing; it builds on core/ only.',
    },
    statemachine: {
      folders: ['functions', 'infra', 'cli'],
      packages: [],
      why: 'statemachine/ builds the workflow from core/ (the step table), never from step code.',
    },
    infra: {
      folders: ['functions', 'cli'],
      packages: ['^@aws-lambda-powertools/', '^@aws-sdk/'],
      why: 'The construct loads no step code: the steps ship as ready assets (infra/lambda-assets.ts).',
    },
    cli: {
      folders: ['infra', 'statemachine', 'functions/lambda', 'functions/.*/handler\\.ts$'],
      packages: ['^@aws-lambda-powertools/', '^aws-lambda$'],
      why: 'The CLI uses core/ and the step logic, never the Lambda plumbing.',
    },
  }),
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
