import { describe, expect, it } from 'vitest';
import { resultRecord, type ChildResult } from '../../runner/distributed-map/result-writer.ts';

const child = (status: ChildResult['status']): ChildResult => ({
  executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sm/BackfillImages:1',
  stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:sm/BackfillImages',
  name: '1',
  input: { Items: [] },
  output: status === 'SUCCEEDED' ? { ok: true } : undefined,
  status,
  redriveCount: 0,
  startDate: new Date(0),
  stopDate: new Date(1000),
});

describe('ResultWriter child records', () => {
  it.each(['FAILED', 'ABORTED'] as const)('mark a %s child redrivable, as AWS redrives it', (status) => {
    expect(resultRecord(child(status)).RedriveStatus).toBe('REDRIVABLE');
  });

  it('mark a succeeded child not redrivable, with the reason AWS gives', () => {
    const record = resultRecord(child('SUCCEEDED'));

    expect(record.RedriveStatus).toBe('NOT_REDRIVABLE');
    expect(record.RedriveStatusReason).toBe('Execution is SUCCEEDED and cannot be redriven');
    expect(record.Output).toBe('{"ok":true}');
  });
});
