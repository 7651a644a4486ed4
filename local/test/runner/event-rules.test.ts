import { describe, expect, it } from 'vitest';
import type { StepHandler } from 'ecr-backfill/functions';
import {
  deliverEvent,
  eventRulesFromTemplate,
  executionStatusChangeEvent,
  handlersByFunctionArn,
  matchesEventPattern,
  MissingRuleTargetHandlerError,
  UnsupportedEventPatternError,
} from '../../runner/event-rules.ts';
import type { ExecutionDescription } from '../../runner/execution.ts';
import { stateMachineFromTemplate, TokenResolver } from '../../runner/template.ts';
import { backfillTemplate } from '../../../test/workflow/helpers.ts';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:Backfill';

function execution(overrides: Partial<ExecutionDescription> = {}): ExecutionDescription {
  return {
    executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:run-1`,
    name: 'run-1',
    stateMachineArn: MACHINE,
    status: 'ABORTED',
    input: { dryRun: false },
    startDate: '2026-01-02T03:04:05.678Z',
    stopDate: '2026-01-02T03:05:00.123Z',
    redriveCount: 0,
    transitions: 3,
    mapRuns: [],
    ...overrides,
  };
}

describe('the execution status change event', () => {
  it('has the shape Step Functions sends: epoch-millisecond dates, input and output as JSON text', () => {
    // Act
    const event = executionStatusChangeEvent(execution({ status: 'SUCCEEDED', output: { ok: 1 } }), {
      account: '123456789012',
      region: 'us-east-1',
    });

    // Assess
    expect(event).toMatchObject({
      version: '0',
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      account: '123456789012',
      region: 'us-east-1',
      time: '2026-01-02T03:05:00Z',
      resources: [execution().executionArn],
      detail: {
        executionArn: execution().executionArn,
        stateMachineArn: MACHINE,
        name: 'run-1',
        status: 'SUCCEEDED',
        startDate: Date.parse('2026-01-02T03:04:05.678Z'),
        stopDate: Date.parse('2026-01-02T03:05:00.123Z'),
        input: '{"dryRun":false}',
        inputDetails: { included: true },
        output: '{"ok":1}',
        outputDetails: { included: true },
        error: null,
        cause: null,
      },
    });
  });

  it('carries the error and cause of a stopped execution, and no output', () => {
    // Act
    const event = executionStatusChangeEvent(execution({ error: 'Operator', cause: 'stop' }), {
      account: '123456789012',
      region: 'us-east-1',
    });

    // Assess
    expect(event.detail).toMatchObject({ status: 'ABORTED', output: null, error: 'Operator', cause: 'stop' });
  });
});

describe('event pattern matching', () => {
  const pattern = {
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
    detail: { stateMachineArn: [MACHINE], status: ['ABORTED', 'TIMED_OUT', 'FAILED'] },
  };
  const where = { account: '123456789012', region: 'us-east-1' };

  it('matches when every field holds one of its allowed values', () => {
    expect(matchesEventPattern(pattern, executionStatusChangeEvent(execution(), where))).toBe(true);
    expect(
      matchesEventPattern(pattern, executionStatusChangeEvent(execution({ status: 'FAILED' }), where)),
    ).toBe(true);
  });

  it('does not match another status, another state machine, or an event without the field', () => {
    expect(
      matchesEventPattern(pattern, executionStatusChangeEvent(execution({ status: 'SUCCEEDED' }), where)),
    ).toBe(false);
    expect(
      matchesEventPattern(
        pattern,
        executionStatusChangeEvent(execution({ stateMachineArn: `${MACHINE}/BackfillImages` }), where),
      ),
    ).toBe(false);
    expect(matchesEventPattern(pattern, { source: 'aws.states', detail: {} })).toBe(false);
  });

  it('matches an array field in the event when one of its elements is allowed', () => {
    expect(matchesEventPattern({ resources: ['b'] }, { resources: ['a', 'b'] })).toBe(true);
    expect(matchesEventPattern({ resources: ['c'] }, { resources: ['a', 'b'] })).toBe(false);
  });

  it('refuses content filters instead of approximating them', () => {
    expect(() => matchesEventPattern({ detail: { status: [{ prefix: 'AB' }] } }, {})).toThrow(
      UnsupportedEventPatternError,
    );
  });
});

describe('the template’s rules, run locally', () => {
  const template = backfillTemplate();
  const resolver = new TokenResolver(template, { region: 'us-east-1', account: '123456789012' });
  const machine = stateMachineFromTemplate(template, resolver);

  it('sends a stopped execution of the stack’s state machine to NativeStopBackfill, not a succeeded one', async () => {
    // Prepare
    const received: unknown[] = [];
    const handler: StepHandler = (event) => {
      received.push(event);
      return Promise.resolve({ stopped: [] });
    };
    const rules = eventRulesFromTemplate(
      template,
      resolver,
      handlersByFunctionArn(machine.definition, { NativeStopBackfill: handler }),
    );
    const where = { account: '123456789012', region: 'us-east-1' };
    const ours = { stateMachineArn: machine.arn };

    // Act
    const aborted = await deliverEvent(rules, executionStatusChangeEvent(execution(ours), where));
    const succeeded = await deliverEvent(
      rules,
      executionStatusChangeEvent(execution({ ...ours, status: 'SUCCEEDED' }), where),
    );

    // Assess
    expect(aborted).toEqual([
      expect.objectContaining({ status: 'ABORTED', outcome: 'succeeded', result: { stopped: [] } }),
    ]);
    expect(succeeded).toEqual([]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ source: 'aws.states', detail: { name: 'run-1', status: 'ABORTED' } });
  });

  it('refuses, by name, a rule target that has no local handler', () => {
    expect(() => eventRulesFromTemplate(template, resolver, new Map())).toThrow(
      MissingRuleTargetHandlerError,
    );
    expect(() => eventRulesFromTemplate(template, resolver, new Map())).toThrow(/NativeStopBackfill|Target0/);
  });
});
