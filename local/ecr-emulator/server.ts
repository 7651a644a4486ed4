import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackfillManager } from './backfill.ts';
import { summarizeParams, type CallLog } from './call-log.ts';
import type { OperationContext, OperationHandler } from './context.ts';
import { EcrError, invalidParameter, serverError, throttling } from './errors.ts';
import { faultToError, type FaultDecision, type Faults } from './faults.ts';
import type { ApiLatency } from './latency.ts';
import { backfillOperations } from './operations/backfill.ts';
import { imageOperations } from './operations/images.ts';
import { isLayerDownload, layerOperations, serveLayerDownload } from './operations/layers.ts';
import { referrerOperations } from './operations/referrers.ts';
import { registryPolicyOperations } from './operations/registry-policy.ts';
import { replicationOperations } from './operations/replication.ts';
import { repositoryOperations } from './operations/repositories.ts';
import type { Quotas } from './quotas.ts';
import { ecrCallDenied, principalOrRoot } from './iam/authorize-call.ts';
import { isRegistrationRequest, parseRegistration, type EmulatorPrincipals } from './iam/principals.ts';
import { assumeRole, isAssumeRoleRequest } from './iam/roles.ts';
import type { IamDecisionLog } from './iam/decisions.ts';
import type { ReplicationEngine } from './replication-engine.ts';
import { isValidRegistryId } from './validation.ts';
import type { World } from './world.ts';

/**
 * ECR's awsJson1_1 protocol: `POST /`, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`,
 * JSON in and out (`application/x-amz-json-1.1`), errors as `{"__type", "message"}` with a non-2xx
 * status, timestamps as epoch seconds. The Region comes from the SigV4 credential scope
 * (`Credential=<key>/<date>/<region>/ecr/aws4_request`); signatures are not verified.
 *
 * Every call passes the same gate, in this order, before it can change anything:
 * scripted/random fault → quota → operation → (scripted fault after the effect) → call log.
 * With a per-call latency (latency.ts), half of a call's delay passes before the operation takes
 * effect and half after it, like a request and its response each crossing the network.
 */

export const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
export const DEFAULT_REGION = 'us-east-1';
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export const OPERATIONS: Readonly<Record<string, OperationHandler>> = {
  ...repositoryOperations,
  ...layerOperations,
  ...imageOperations,
  ...referrerOperations,
  ...replicationOperations,
  ...backfillOperations,
  ...registryPolicyOperations,
};

export interface ServerDeps {
  world: World;
  replication: ReplicationEngine;
  backfills: BackfillManager;
  quotas: Quotas;
  faults: Faults;
  callLog: CallLog;
  /** Per-call service latency (zero by default). */
  latency: ApiLatency;
  /** The account of callers whose access key does not name one. */
  defaultAccount: () => string;
  /** Role sessions by access key (iam/principals.ts); any other caller is its account's root user. */
  principals: EmulatorPrincipals;
  /** Where every IAM decision is recorded (iam/decisions.ts). */
  iamDecisions?: IamDecisionLog;
}

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

/** Region and access key from the Authorization header (default Region us-east-1). */
export function parseAuthorization(header: string | undefined): { region: string; accessKeyId?: string } {
  const match = header ? CREDENTIAL.exec(header) : null;
  if (!match) return { region: DEFAULT_REGION };
  return { region: match[2] ?? DEFAULT_REGION, ...(match[1] ? { accessKeyId: match[1] } : {}) };
}

/**
 * The caller's account: an access key ending in 12 digits (e.g. `AKIA222222222222`, what ecrClientFor
 * uses for `{ account }`) acts as that account; any other key acts as the default account.
 */
export function callerAccount(accessKeyId: string | undefined, fallback: string): string {
  const match = accessKeyId ? /(\d{12})$/.exec(accessKeyId) : null;
  return match?.[1] ?? fallback;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(data),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(data);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new EcrError('InvalidParameterException', 'Request body too large', 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createRequestHandler(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((error: unknown) => {
      if (!res.headersSent)
        send(res, 500, serverError(`Unexpected emulator error: ${String(error)}`).toBody());
    });
  };
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = Date.now();
  const seq = deps.callLog.nextSeq();
  const { region, accessKeyId } = parseAuthorization(req.headers.authorization);
  const caller = callerAccount(accessKeyId, deps.defaultAccount());
  const target = req.headers['x-amz-target'];
  const operation =
    typeof target === 'string' && target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : undefined;

  let input: Record<string, unknown> = {};
  let account = caller;
  let throttled = false;
  let injected = false;
  const log = (outcome: string) =>
    deps.callLog.record({
      seq,
      time: started,
      operation: operation ?? String(target ?? '(none)'),
      region,
      account,
      params: summarizeParams(input),
      outcome,
      throttled,
      injected,
      durationMs: Date.now() - started,
    });
  const fail = (error: EcrError) => {
    log(error.code);
    send(res, error.status, error.toBody());
  };

  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (error) {
    if (error instanceof EcrError) fail(error);
    return;
  }
  // GetDownloadUrlForLayer's URLs: the emulator's stand-in for a pre-signed S3 URL (no SigV4).
  if (isLayerDownload(req)) return serveLayerDownload(deps.world, req, res);
  if (isRegistrationRequest(req)) {
    const principals = parseRegistration(body);
    if ('problem' in principals) return send(res, 400, invalidParameter(principals.problem).toBody());
    deps.principals.register(principals);
    return send(res, 200, { registered: principals.length });
  }
  if (isAssumeRoleRequest(req)) {
    const outcome = await assumeRole(
      deps.world.roles,
      deps.principals,
      principalOrRoot(deps.principals.get(accessKeyId), caller),
      body,
      deps.iamDecisions,
    );
    if (outcome.status === 200) return send(res, 200, outcome.credentials);
    return send(res, outcome.status, { __type: outcome.code, message: outcome.message });
  }
  if (req.method !== 'POST') {
    return fail(
      new EcrError(
        'UnknownOperationException',
        `The ECR emulator only answers POST / (got ${req.method})`,
        405,
      ),
    );
  }
  if (operation === undefined) {
    return fail(
      new EcrError(
        'UnknownOperationException',
        `Missing or foreign X-Amz-Target '${String(target)}'; expected ${TARGET_PREFIX}<Operation>`,
      ),
    );
  }
  try {
    const parsed: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    input = parsed as Record<string, unknown>;
  } catch {
    return fail(new EcrError('SerializationException', 'The request body is not a JSON object'));
  }
  if (typeof input.registryId === 'string') account = input.registryId;

  const handler = OPERATIONS[operation];
  if (!handler) {
    return fail(
      new EcrError(
        'UnknownOperationException',
        `The ECR emulator does not implement the operation '${operation}'`,
      ),
    );
  }

  const decision: FaultDecision | undefined = deps.faults.decide({
    operation,
    region,
    account,
    ...(typeof input.repositoryName === 'string' ? { repository: input.repositoryName } : {}),
    input,
  });
  if (decision) injected = decision.error !== undefined;
  /** Waits the fault's delay, then answers with its error or drops the connection; true if it did. */
  const settleByFault = async (fault: FaultDecision): Promise<boolean> => {
    if (fault.delayMs > 0) await sleep(fault.delayMs);
    if (fault.error === 'NetworkError') {
      log('NetworkError');
      req.socket.destroy();
      return true;
    }
    if (fault.error === undefined) return false;
    throttled = fault.error === 'ThrottlingException';
    fail(faultToError(fault.error, operation));
    return true;
  };
  const latencyMs = deps.latency.next();
  if (latencyMs > 0) await sleep(latencyMs / 2);
  if (decision?.when === 'before' && (await settleByFault(decision))) return;

  if (!deps.quotas.tryAcquire(account, region, operation)) {
    throttled = true;
    return fail(throttling(operation));
  }

  // A malformed registryId names no registry to authorize against: the input is refused first.
  if (
    input.registryId !== undefined &&
    (typeof input.registryId !== 'string' || !isValidRegistryId(input.registryId))
  ) {
    return fail(
      invalidParameter("Invalid parameter at 'registryId' failed to satisfy constraint: 'must be 12 digits'"),
    );
  }
  // IAM: the caller's policies and the registry's, as AWS evaluates them (iam/authorize-call.ts).
  const principal = principalOrRoot(deps.principals.get(accessKeyId), caller);
  const denied = await ecrCallDenied(
    deps.world,
    { principal, account, region, operation, input },
    deps.iamDecisions,
  );
  if (denied) return fail(denied);

  let output: unknown;
  try {
    const ctx: OperationContext = {
      world: deps.world,
      replication: deps.replication,
      backfills: deps.backfills,
      region,
      account,
      ...(req.headers.host ? { endpoint: `http://${req.headers.host}` } : {}),
    };
    output = handler(ctx, input);
  } catch (error) {
    if (error instanceof EcrError) return fail(error);
    return fail(serverError(`Unexpected emulator error in ${operation}: ${String(error)}`));
  }

  // The operation took effect; the caller never learns it (a lost response).
  if (latencyMs > 0) await sleep(latencyMs / 2);
  if (decision?.when === 'after' && (await settleByFault(decision))) return;
  log('ok');
  send(res, 200, output ?? {});
}
