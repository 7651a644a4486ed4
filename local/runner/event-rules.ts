/**
 * EventBridge, as far as the stack needs it locally: the "Step Functions Execution Status Change"
 * event an execution sends when it ends, the template's `AWS::Events::Rule`s matched against it, and
 * their Lambda targets invoked in-process with the event as payload.
 *
 * Event shape: https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html and
 * https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-states.html (source `aws.states`,
 * dates in epoch milliseconds, input/output as JSON strings).
 * Patterns: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html — a
 * field matches when its value (or, for an array, one of its elements) equals one of the listed
 * values; nested objects match field by field; a field the event lacks does not match. Content
 * filters (`prefix`, `anything-but`, `numeric`, `exists`, …) are refused rather than approximated.
 */
import { randomUUID } from 'node:crypto';
import type { StepHandler } from 'ecr-backfill/functions';
import { forEachState, taskFunctionArn, type AslDefinition } from './asl.ts';
import type { ExecutionDescription } from './execution.ts';
import type { CfnTemplate, TokenResolver } from './template.ts';

export const STATUS_CHANGE_DETAIL_TYPE = 'Step Functions Execution Status Change';

export interface ExecutionStatusChangeEvent {
  version: '0';
  id: string;
  'detail-type': typeof STATUS_CHANGE_DETAIL_TYPE;
  source: 'aws.states';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: string;
    startDate: number | null;
    stopDate: number | null;
    input: string;
    inputDetails: { included: boolean };
    output: string | null;
    outputDetails: { included: boolean } | null;
    error: string | null;
    cause: string | null;
    redriveCount: number;
  };
}

/** The event Step Functions sends to EventBridge for an execution's current status. */
export function executionStatusChangeEvent(
  execution: ExecutionDescription,
  where: { account: string; region: string },
): ExecutionStatusChangeEvent {
  const epoch = (iso: string | undefined): number | null => (iso ? Date.parse(iso) : null);
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': STATUS_CHANGE_DETAIL_TYPE,
    source: 'aws.states',
    account: where.account,
    time: (execution.stopDate ?? new Date().toISOString()).replace(/\.\d{3}Z$/, 'Z'),
    region: where.region,
    resources: [execution.executionArn],
    detail: {
      executionArn: execution.executionArn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: epoch(execution.startDate),
      stopDate: epoch(execution.stopDate),
      input: JSON.stringify(execution.input),
      inputDetails: { included: true },
      output: execution.output !== undefined ? JSON.stringify(execution.output) : null,
      outputDetails: execution.output !== undefined ? { included: true } : null,
      error: execution.error ?? null,
      cause: execution.cause ?? null,
      redriveCount: execution.redriveCount,
    },
  };
}

export class UnsupportedEventPatternError extends Error {
  constructor(path: string, detail: string) {
    super(`Event pattern at '${path}': ${detail} (only exact values and nested fields are matched locally)`);
    this.name = 'UnsupportedEventPattern';
  }
}

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** Refuses what the matcher does not implement, so a rule is never silently mis-matched. */
function checkPattern(pattern: unknown, path: string): void {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern))
    throw new UnsupportedEventPatternError(path, 'not an object');
  for (const [key, value] of Object.entries(pattern as Record<string, unknown>)) {
    const at = path ? `${path}.${key}` : key;
    if (Array.isArray(value)) {
      const filter = (value as unknown[]).find((allowed) => !isScalar(allowed));
      if (filter !== undefined)
        throw new UnsupportedEventPatternError(at, `content filter ${JSON.stringify(filter)}`);
    } else {
      checkPattern(value, at);
    }
  }
}

/** True when every field of the pattern matches the event. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  checkPattern(pattern, '');
  const match = (p: Record<string, unknown>, e: unknown): boolean => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
    const fields = e as Record<string, unknown>;
    return Object.entries(p).every(([key, allowed]) => {
      if (!(key in fields)) return false;
      const value = fields[key];
      if (Array.isArray(allowed)) {
        const values: unknown[] = Array.isArray(value) ? value : [value];
        return values.some((v) => allowed.includes(v));
      }
      return match(allowed as Record<string, unknown>, value);
    });
  };
  return match(pattern as Record<string, unknown>, event);
}

export interface LocalEventRule {
  logicalId: string;
  pattern: Record<string, unknown>;
  targets: Array<{ id: string; arn: string; handler: StepHandler }>;
}

export class MissingRuleTargetHandlerError extends Error {
  constructor(rule: string, target: string, arn: string) {
    super(
      `Refusing to run: rule '${rule}' target '${target}' (${arn}) has no local handler (EventBridge would invoke the real AWS service)`,
    );
    this.name = 'MissingRuleTargetHandlerError';
  }
}

/**
 * Lambda-backed Task handlers by function ARN: `arn:aws:states:::lambda:invoke` Tasks name the
 * function in `Parameters.FunctionName`, optimized-away ones in `Resource`.
 */
export function handlersByFunctionArn(
  definition: AslDefinition,
  handlersByState: Record<string, StepHandler>,
): Map<string, StepHandler> {
  const byArn = new Map<string, StepHandler>();
  forEachState(definition, (name, state) => {
    const handler = handlersByState[name];
    const arn = taskFunctionArn(state);
    if (handler && arn !== undefined && !byArn.has(arn)) byArn.set(arn, handler);
  });
  return byArn;
}

/**
 * The template's enabled rules on the default bus with their targets bound to local handlers.
 * A target without a local handler is refused by name before anything runs.
 */
export function eventRulesFromTemplate(
  template: CfnTemplate,
  resolver: TokenResolver,
  functionHandlers: Map<string, StepHandler>,
): LocalEventRule[] {
  const rules: LocalEventRule[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Events::Rule') continue;
    const properties = resource.Properties ?? {};
    if (properties.State === 'DISABLED' || properties.EventBusName !== undefined) continue;
    if (properties.EventPattern === undefined) continue; // a schedule: nothing sends it events locally
    const pattern = resolver.resolve(properties.EventPattern) as Record<string, unknown>;
    checkPattern(pattern, '');
    const targets = (Array.isArray(properties.Targets) ? properties.Targets : []).map((target) => {
      const resolved = resolver.resolve(target) as { Id?: string; Arn?: string };
      const arn = resolved.Arn ?? '';
      const id = resolved.Id ?? '?';
      const handler = functionHandlers.get(arn);
      if (!handler) throw new MissingRuleTargetHandlerError(logicalId, id, arn);
      return { id, arn, handler };
    });
    rules.push({ logicalId, pattern, targets });
  }
  return rules;
}

export interface EventDelivery {
  rule: string;
  target: string;
  status: string;
  outcome: 'succeeded' | 'failed';
  result?: unknown;
  error?: string;
}

/**
 * Sends the event to every matching rule's targets, one after the other, as an asynchronous Lambda
 * invoke would deliver it (the payload crosses a JSON boundary). A failing target is recorded, not
 * retried: EventBridge's and Lambda's retries are not modelled.
 */
export async function deliverEvent(
  rules: LocalEventRule[],
  event: ExecutionStatusChangeEvent,
): Promise<EventDelivery[]> {
  const deliveries: EventDelivery[] = [];
  for (const rule of rules) {
    if (!matchesEventPattern(rule.pattern, event)) continue;
    for (const target of rule.targets) {
      const base = { rule: rule.logicalId, target: target.id, status: event.detail.status };
      try {
        const result = await target.handler(JSON.parse(JSON.stringify(event)) as unknown);
        deliveries.push({ ...base, outcome: 'succeeded', result });
      } catch (error) {
        deliveries.push({
          ...base,
          outcome: 'failed',
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
      }
    }
  }
  return deliveries;
}
