/**
 * Where the functions' ready-made code is: `dist/assets/<function folder>/index.mjs`, bundled once
 * when the package is built (`npm run build`, see infra/bundle-functions.ts), never at a consumer's
 * synth. So `cdk synth` in an app that installed ecr-backfill needs neither esbuild nor this
 * repository's lock file, the way cdk-ecr-deployment ships its prebuilt handler.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAMBDA_STEPS, type LambdaStepName } from '../core/steps.ts';

/** The bundle's file name and exported function: the Lambda handler is `index.handler`. */
export const LAMBDA_BUNDLE_FILE = 'index.mjs';
export const LAMBDA_HANDLER = 'index.handler';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/**
 * Compiled, this module is `dist/infra/lambda-assets.js` and the assets are `dist/assets`; run from
 * the sources (`infra/`, the repository's tests and CDK app), they are the build's `dist/assets`.
 */
const CANDIDATE_ROOTS = [join(HERE, '..', 'assets'), join(HERE, '..', 'dist', 'assets')];

export class LambdaAssetMissing extends Error {
  override readonly name = 'LambdaAssetMissing';
}

/**
 * The step's asset folder name: the last segment of its code folder (`native-engine/native-verify`
 * bundles to `native-verify/`), so the assets keep one flat, stable layout however `functions/` is
 * grouped.
 */
export function lambdaAssetFolder(step: LambdaStepName): string {
  return basename(LAMBDA_STEPS[step]);
}

/** The folder to deploy as the step's code (what `lambda.Code.fromAsset` takes). */
export function lambdaAssetDir(step: LambdaStepName): string {
  const folder = lambdaAssetFolder(step);
  for (const root of CANDIDATE_ROOTS) {
    const dir = join(root, folder);
    if (existsSync(join(dir, LAMBDA_BUNDLE_FILE))) return dir;
  }
  throw new LambdaAssetMissing(
    `The bundled code of ${step} (${folder}/${LAMBDA_BUNDLE_FILE}) is missing from ${CANDIDATE_ROOTS.join(' and ')}: ` +
      'run `npm run build` in the ecr-backfill repository (npm install does it), or reinstall the package.',
  );
}
