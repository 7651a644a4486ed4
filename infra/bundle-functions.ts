/**
 * `npm run build:functions`: bundles each Lambda step once, at package build time, into
 * `dist/assets/<asset folder>/index.mjs` (+ source map). The construct deploys these folders as
 * they are (infra/lambda-assets.ts); consumers never run esbuild.
 *
 * The options are those the construct used to give NodejsFunction at synth time, so the deployed
 * code is the same: ESM for Node 24, minified, with source maps, and everything bundled, the AWS
 * SDK included (the handlers need newer ECR commands than the Lambda runtime may ship).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { LAMBDA_STEP_NAMES, LAMBDA_STEPS } from '../core/steps.ts';
import { LAMBDA_BUNDLE_FILE, lambdaAssetFolder } from './lambda-assets.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'dist', 'assets');

rmSync(OUT, { recursive: true, force: true });
const started = Date.now();
await Promise.all(
  LAMBDA_STEP_NAMES.map((step) =>
    build({
      entryPoints: [join(ROOT, 'functions', LAMBDA_STEPS[step], 'handler.ts')],
      outfile: join(OUT, lambdaAssetFolder(step), LAMBDA_BUNDLE_FILE),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      minify: true,
      sourcemap: true,
      // Stack traces map to file and line (NODE_OPTIONS=--enable-source-maps) without shipping every
      // dependency's source a second time: the maps shrink from ~3.8 MB to a fraction per function.
      sourcesContent: false,
      mainFields: ['module', 'main'],
      // Some dependencies still call require(); give the ESM bundle one.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'warning',
    }),
  ),
);
process.stdout.write(
  `bundled ${LAMBDA_STEP_NAMES.length} functions into dist/assets in ${Date.now() - started} ms\n`,
);
