/**
 * Lambda crash injection: with probability `rate` (seeded), an invocation dies part-way through,
 * after a random number of side-effect calls (ECR calls for the backfill) have *reached the
 * service*, i.e. after partial side effects, the way a timeout or an out-of-memory kill would leave
 * it. If the invocation makes fewer calls than drawn, it dies at its end, its result lost.
 *
 * Step Functions reports such a failure as `Lambda.Unknown`: "Unhandled errors in Lambda are
 * reported as Lambda.Unknown in the error output. These include out-of-memory errors and function
 * timeouts." (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
 * CDK's default LambdaInvoke retrier does not match it, so unless a state retries it (or States.ALL),
 * the state fails and a redrive resumes there: that is the idempotency proof.
 */
import { mulberry32 } from '../../random.ts';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { S3Client } from '@aws-sdk/client-s3';
import { currentInvocation, frozen } from './invocation.ts';

export interface CrashInjectorOptions {
  /** Probability that an invocation crashes, in [0, 1]. */
  rate: number;
  seed?: number;
  /** A crashing invocation dies after 1..maxCallsBeforeCrash counted calls. Default 8. */
  maxCallsBeforeCrash?: number;
  /** Stop crashing after this many crashes. Default: no limit. */
  maxCrashes?: number;
}

export class CrashInjector {
  private readonly random: () => number;
  private readonly maxCalls: number;
  crashesPlanned = 0;

  constructor(private readonly options: CrashInjectorOptions) {
    if (!(options.rate >= 0 && options.rate <= 1))
      throw new RangeError('lambda crash rate must be within [0, 1]');
    this.random = mulberry32(options.seed ?? 0);
    this.maxCalls = Math.max(1, options.maxCallsBeforeCrash ?? 8);
  }

  /** For a new invocation: the number of counted calls after which it dies, or undefined. */
  plan(): number | undefined {
    if (this.crashesPlanned >= (this.options.maxCrashes ?? Infinity)) return undefined;
    if (this.options.rate === 0 || this.random() >= this.options.rate) return undefined;
    this.crashesPlanned += 1;
    return 1 + Math.floor(this.random() * this.maxCalls);
  }
}

const INSTRUMENTED = new WeakSet<object>();
const MIDDLEWARE_NAME = 'localLambdaCrashPoints';

type AnyMiddleware = (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>;
interface MiddlewareHost {
  middlewareStack: {
    add(
      middleware: AnyMiddleware,
      options: { step: 'initialize' | 'deserialize'; priority?: 'high'; name: string },
    ): void;
  };
}
const ATTEMPT_MIDDLEWARE_NAME = 'localLambdaDeadSendsNothing';

/**
 * Each attempt of a call, inside the SDK's retry loop: the crash points above sit before the retry
 * middleware (`initialize` step), so without this a killed invocation's SDK would still send its
 * retries seconds later, a write no dead Lambda sandbox can make. The `deserialize` step runs once
 * per attempt: the SDK's retry middleware sits in `finalizeRequest` (`retryMiddlewareOptions` in
 * @smithy/core), which wraps the later steps, and the steps run in the order initialize, serialize,
 * build, finalizeRequest, deserialize (https://www.npmjs.com/package/@smithy/middleware-stack).
 */
const deadSendsNothing: AnyMiddleware = (next) => async (args) => {
  if (currentInvocation()?.dead) return frozen();
  return next(args);
};

function crashPoints(counted: boolean): AnyMiddleware {
  return (next) => async (args) => {
    const invocation = currentInvocation();
    if (!invocation) return next(args);
    // A crashed process sends nothing more.
    if (invocation.dead) return frozen();
    if (!counted) {
      const output = await next(args);
      return invocation.dead ? frozen() : output;
    }
    invocation.sideEffectCalls += 1;
    const calls = invocation.sideEffectCalls;
    let outcome: { output?: unknown; error?: unknown; failed: boolean };
    try {
      outcome = { output: await next(args), failed: false };
    } catch (error) {
      outcome = { error, failed: true };
    }
    if (invocation.dead) return frozen();
    if (invocation.crashAfterCalls !== undefined && calls >= invocation.crashAfterCalls) {
      // The call reached the service; the process dies before it can use the answer.
      invocation.die(`after ${calls} ECR call${calls === 1 ? '' : 's'}`);
      return frozen();
    }
    if (outcome.failed) throw outcome.error;
    return outcome.output;
  };
}

function instrument(client: MiddlewareHost, counted: boolean): void {
  if (INSTRUMENTED.has(client)) return;
  INSTRUMENTED.add(client);
  client.middlewareStack.add(crashPoints(counted), { step: 'initialize', name: MIDDLEWARE_NAME });
  client.middlewareStack.add(deadSendsNothing, {
    step: 'deserialize',
    priority: 'high',
    name: ATTEMPT_MIDDLEWARE_NAME,
  });
}

/** ECR calls count toward an invocation's crash point. */
export function withEcrCrashPoints(client: ECRClient): ECRClient {
  instrument(client as unknown as MiddlewareHost, true);
  return client;
}

/** S3 calls do not count, but a crashed invocation sends none. */
export function withS3CrashPoints(client: S3Client): S3Client {
  instrument(client as unknown as MiddlewareHost, false);
  return client;
}
