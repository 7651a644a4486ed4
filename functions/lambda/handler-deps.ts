/**
 * The default StepDeps of a deployed Lambda, built from its environment and checked at init: a
 * missing or malformed variable fails the cold start with a message naming it, instead of a later
 * step failing halfway through a batch.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { StepDeps, StepEnvironment } from '../../core/deps.ts';
import type { StepHandler } from './step-handler.ts';
import { systemClock } from '../../core/deps.ts';
import { ECR_DEFAULT_PUT_IMAGE_PER_SECOND } from '../../core/quotas.ts';
import { createEcrClientProvider, SDK_MAX_ATTEMPTS } from '../../core/ecr/ecr.ts';
import { createLogger, type PowertoolsLogger } from './powertools-logger.ts';
import { powertoolsMetrics } from './powertools-metrics.ts';
import { S3RunStore } from '../../core/run-files/s3-run-store.ts';
import { DEFAULT_RUN_POLICY, parseRunPolicy, type RunPolicy } from '../../core/contracts/run-policy.ts';

export class EnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid Lambda environment: ${problems.join('; ')}`);
    this.name = 'EnvironmentError';
  }
}

/**
 * Reads RUN_BUCKET (required), SOURCE_REGION or else AWS_REGION (one required), DEFAULT_INPUT
 * (optional JSON object, default `{}`) and PUT_IMAGE_RATE (optional positive number of PutImage calls
 * per second this invocation may make, default 10 = ECR's default quota), PUT_IMAGE_QUOTA (optional
 * positive number: the deployment's whole PutImage rate per Region, for the plan's bound) and RUN_POLICY (optional
 * JSON run policy, default: the construct's default policy) and DESTINATION_ACTIONS (optional ECR
 * actions for the session policy of destination roles) and DIRECT_ACCOUNTS (optional account ids the
 * functions reach without a role). Every problem is listed.
 */
export function readStepEnvironment(env: NodeJS.ProcessEnv = process.env): StepEnvironment {
  const problems: string[] = [];
  const runBucket = env.RUN_BUCKET?.trim() ?? '';
  if (!runBucket) problems.push('RUN_BUCKET is required');
  const sourceRegion = (env.SOURCE_REGION?.trim() || env.AWS_REGION?.trim()) ?? '';
  if (!sourceRegion) problems.push('SOURCE_REGION or AWS_REGION is required');

  let defaultInput: Record<string, unknown> = {};
  if (env.DEFAULT_INPUT !== undefined && env.DEFAULT_INPUT.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(env.DEFAULT_INPUT);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push('DEFAULT_INPUT must be a JSON object');
      } else {
        defaultInput = parsed as Record<string, unknown>;
      }
    } catch (error) {
      problems.push(`DEFAULT_INPUT is not valid JSON (${(error as Error).message})`);
    }
  }

  let putImageRatePerSecond = ECR_DEFAULT_PUT_IMAGE_PER_SECOND;
  if (env.PUT_IMAGE_RATE !== undefined && env.PUT_IMAGE_RATE.trim() !== '') {
    putImageRatePerSecond = Number(env.PUT_IMAGE_RATE);
    if (!(putImageRatePerSecond > 0))
      problems.push(`PUT_IMAGE_RATE must be a positive number, got "${env.PUT_IMAGE_RATE}"`);
  }

  let putImageQuotaPerSecond: number | undefined;
  if (env.PUT_IMAGE_QUOTA !== undefined && env.PUT_IMAGE_QUOTA.trim() !== '') {
    putImageQuotaPerSecond = Number(env.PUT_IMAGE_QUOTA);
    if (!(putImageQuotaPerSecond > 0))
      problems.push(`PUT_IMAGE_QUOTA must be a positive number, got "${env.PUT_IMAGE_QUOTA}"`);
  }

  let runPolicy: RunPolicy = DEFAULT_RUN_POLICY;
  if (env.RUN_POLICY !== undefined && env.RUN_POLICY.trim() !== '') {
    try {
      const parsed = parseRunPolicy(JSON.parse(env.RUN_POLICY));
      if (parsed.policy) runPolicy = parsed.policy;
      problems.push(...parsed.problems);
    } catch (error) {
      problems.push(`RUN_POLICY is not valid JSON (${(error as Error).message})`);
    }
  }

  let destinationActions: string[] | undefined;
  if (env.DESTINATION_ACTIONS !== undefined && env.DESTINATION_ACTIONS.trim() !== '') {
    destinationActions = env.DESTINATION_ACTIONS.split(',').map((action) => action.trim());
    const malformed = destinationActions.filter((action) => !/^ecr:[A-Za-z]+$/.test(action));
    if (malformed.length > 0)
      problems.push(`DESTINATION_ACTIONS must list ECR actions (ecr:Name), got ${malformed.join(', ')}`);
  }

  let directAccounts: string[] | undefined;
  if (env.DIRECT_ACCOUNTS !== undefined && env.DIRECT_ACCOUNTS.trim() !== '') {
    directAccounts = env.DIRECT_ACCOUNTS.split(',').map((account) => account.trim());
    const malformed = directAccounts.filter((account) => !/^\d{12}$/.test(account));
    if (malformed.length > 0)
      problems.push(`DIRECT_ACCOUNTS must list 12-digit account ids, got ${malformed.join(', ')}`);
  }

  let destinationRoleArns: string[] | undefined;
  if (env.DESTINATION_ROLE_ARNS !== undefined && env.DESTINATION_ROLE_ARNS.trim() !== '') {
    destinationRoleArns = env.DESTINATION_ROLE_ARNS.split(',').map((arn) => arn.trim());
    const malformed = destinationRoleArns.filter((arn) => !arn.startsWith('arn:'));
    if (malformed.length > 0)
      problems.push(`DESTINATION_ROLE_ARNS must list role ARNs, got ${malformed.join(', ')}`);
  }

  if (problems.length > 0) throw new EnvironmentError(problems);
  return {
    runBucket,
    sourceRegion,
    defaultInput,
    putImageRatePerSecond,
    ...(putImageQuotaPerSecond !== undefined ? { putImageQuotaPerSecond } : {}),
    runPolicy,
    ...(destinationActions ? { destinationActions } : {}),
    ...(directAccounts ? { directAccounts } : {}),
    ...(destinationRoleArns ? { destinationRoleArns } : {}),
  };
}

/**
 * The StepDeps of a Lambda: real clients (the SDK honours `AWS_ENDPOINT_URL_ECR` / `AWS_ENDPOINT_URL_S3`,
 * which is how the same code talks to emulators), the system clock, a Powertools logger.
 */
export function createStepDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): LambdaStepDeps {
  const stepEnv = readStepEnvironment(env);
  return {
    ecr: createEcrClientProvider(
      stepEnv.destinationActions ? { sessionActions: stepEnv.destinationActions } : {},
    ),
    runStore: new S3RunStore(
      new S3Client({
        region: stepEnv.sourceRegion,
        maxAttempts: SDK_MAX_ATTEMPTS,
        // S3 emulators serve path-style URLs only; AWS serves both.
        ...(env.AWS_ENDPOINT_URL_S3 ? { forcePathStyle: true } : {}),
      }),
    ),
    clock: systemClock,
    logger: createLogger(),
    metrics: powertoolsMetrics(),
    env: stepEnv,
  };
}

/** A deployed step's deps: its logger is Powertools', which also takes the invocation's Context. */
export type LambdaStepDeps = StepDeps & { logger: PowertoolsLogger };

/**
 * Inside the Lambda runtime, which sets AWS_LAMBDA_FUNCTION_NAME for every function
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 * The one place that asks: everything else receives what it needs in its deps.
 */
export function isLambdaRuntime(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
}

/**
 * The module-level `handler` of a step. Inside Lambda the deps are built right away, so a bad
 * environment fails the cold start (init) with a clear message. Anywhere else (the local runner and
 * tests import every handler module through functions/registry.ts, usually with deps of their own)
 * they are built on the first call, so importing never requires the Lambda environment.
 *
 * Each invocation's Context goes to the logger first (Powertools' `logger.addContext`, what its
 * `injectLambdaContext` middleware does), so every line of the invocation, child loggers included,
 * carries the request id, the function and the cold-start flag; then to the step's handler.
 * https://docs.powertools.aws.dev/lambda/typescript/latest/core/logger/#capturing-lambda-context-info
 */
export function lambdaHandler<TEvent, TResult>(
  create: (deps: StepDeps) => StepHandler<TEvent, TResult>,
  env: NodeJS.ProcessEnv = process.env,
): StepHandler<TEvent, TResult> {
  let built: { deps: LambdaStepDeps; handler: StepHandler<TEvent, TResult> } | undefined;
  const build = () => {
    const deps = createStepDepsFromEnvironment(env);
    return { deps, handler: create(deps) };
  };
  if (isLambdaRuntime(env)) built = build();
  return (event, context) => {
    built ??= build();
    if (context) built.deps.logger.addContext(context);
    return built.handler(event, context);
  };
}
