/**
 * Synthesizes the backfill stack in-process, fast enough for tests and the local runner.
 *
 * Two things make a synth slow, and both are off unless asked for: bundling the functions with
 * esbuild (skipped with the `aws:cdk:bundling-stacks: []` context) and CDK's built-in CloudFormation
 * validation (a WASM validator: ~8 s and ~400 MB per synth, versus ~0.3 s without).
 */
import { existsSync, readFileSync } from 'node:fs';
import { Annotations, App, type Environment } from 'aws-cdk-lib';
import { BackfillStack, type EcrReplicationBackfillProps } from 'ecr-backfill';
import { DEFAULT_STACK_NAME } from 'ecr-backfill/core';
import { definitionFromTemplate, type CfnTemplate, type TokenValues } from './definition-from-template.ts';

export interface SynthesizeOptions {
  /** Props of the EcrReplicationBackfill construct. */
  readonly backfill?: EcrReplicationBackfillProps;
  /** @default DEFAULT_STACK_NAME */
  readonly stackName?: string;
  /** @default - environment-agnostic */
  readonly env?: Environment;
  /**
   * Bundle the functions with esbuild, as `cdk synth` does.
   * @default false
   */
  readonly bundle?: boolean;
  /**
   * Run CDK's built-in CloudFormation validation on the template.
   * @default false
   */
  readonly cloudFormationValidation?: boolean;
  /** Where the cloud assembly goes. @default - a temporary directory */
  readonly outdir?: string;
  /**
   * The synth is the rig's own step of a local run, not a deployment (local, demo, bench): the
   * deployment-scope warning (`ecr-backfill:unscoped-destination-writes`) is acknowledged, so CDK
   * prints neither it nor its validation report, whose cloud assembly is a temporary directory
   * gone after the run. Errors still fail the synth. `cdk synth` keeps the warning.
   * @default false
   */
  readonly localRun?: boolean;
}

/** Warnings about the deployment's IAM scope: meant for whoever deploys, not for a local run. */
const DEPLOYMENT_WARNINGS = ['ecr-backfill:unscoped-destination-writes'];

/**
 * The context of the repository's cdk.json (its feature flags), so what the tests and the local
 * runner synthesize is what `cdk synth` and `cdk deploy` produce. Absent outside the repository.
 */
function cdkJsonContext(): Record<string, unknown> {
  const file = new URL('../../cdk.json', import.meta.url);
  if (!existsSync(file)) return {};
  return (JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
}

/** The app and stack, before synthesis (for assertions that need the construct tree, e.g. cdk-nag). */
export function createBackfillApp(options: SynthesizeOptions = {}): { app: App; stack: BackfillStack } {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
    context: {
      ...cdkJsonContext(),
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const stack = new BackfillStack(app, options.stackName ?? DEFAULT_STACK_NAME, {
    ...(options.env ? { env: options.env } : {}),
    ...(options.backfill ? { backfill: options.backfill } : {}),
  });
  if (options.localRun) {
    for (const id of DEPLOYMENT_WARNINGS)
      Annotations.of(stack).acknowledgeWarning(id, 'a local run deploys nothing');
  }
  return { app, stack };
}

/** The synthesized CloudFormation template of the backfill stack. */
export function synthesizeBackfillStack(options: SynthesizeOptions = {}): CfnTemplate {
  const { app, stack } = createBackfillApp(options);
  return app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
}

/** Synthesizes the stack and returns its state machine definition with tokens resolved. */
export function synthesizeBackfillDefinition(
  options: SynthesizeOptions = {},
  values: TokenValues = {},
): Record<string, unknown> {
  return definitionFromTemplate(synthesizeBackfillStack(options), values);
}
