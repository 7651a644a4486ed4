import { describe, expect, it } from 'vitest';
import { executionConsoleUrl, parseExecutionArn, parseMapRunArn } from '../../cli/aws/arn.ts';
import { parseDuration } from '../../cli/kit/duration.ts';
import { CliError, explainAwsError, formatError } from '../../cli/kit/errors.ts';
import { executionNameFor, executionNameProblem } from '../../cli/aws/execution-name.ts';
import { invalidInputProblems } from '../../cli/watch/failure.ts';
import { formatDuration, renderTable } from '../../cli/kit/format.ts';
import { csvField } from '../../functions/summarize/report-writer.ts';
import { parseDestinationFlag } from '../../cli/input/input-flags.ts';
import { createTtyProgressView, renderBarLine, type ProgressSnapshot } from '../../cli/watch/progress.ts';
import { CapturedStream } from './captured-stream.ts';
import { RateEstimator } from '../../cli/watch/rate.ts';
import { shellQuote } from '../../cli/kit/shell.ts';

describe('execution names', () => {
  it('are backfill-<utc time>-<8 hex>, valid for Step Functions, whatever the input', () => {
    const huge = { repositories: Array.from({ length: 100 }, (_, i) => `team/service-${i}`) };

    const name = executionNameFor(huge, Date.UTC(2026, 0, 2, 3, 4, 5));

    expect(name).toMatch(/^backfill-20260102-030405-[0-9a-f]{8}$/);
    expect(executionNameProblem(name)).toBeUndefined();
  });

  it('do not depend on key order', () => {
    const at = Date.UTC(2026, 0, 1);
    expect(executionNameFor({ a: 1, b: [1, 2] }, at)).toBe(executionNameFor({ b: [1, 2], a: 1 }, at));
    expect(executionNameFor({ b: [2, 1] }, at)).not.toBe(executionNameFor({ b: [1, 2] }, at));
  });

  it.each([
    ['', 'must be 1 to 80 characters (got 0)'],
    ['x'.repeat(81), 'must be 1 to 80 characters (got 81)'],
    ['with space', 'may contain only letters, digits, "-" and "_"'],
    ['ünïcode', 'may contain only letters, digits, "-" and "_"'],
  ])('a custom name %j is refused: %s', (name, problem) => {
    expect(executionNameProblem(name)).toBe(problem);
  });
});

describe('durations', () => {
  it.each([
    ['7d', 7 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['1d12h', 36 * 3_600_000],
    ['90s', 90_000],
    ['2w', 14 * 86_400_000],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '7', 'd7', '7 days', '-1d', '0h', '1h30'])('%j is refused', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });

  it('formats the two most significant units', () => {
    expect(formatDuration(7.5)).toBe('8s');
    expect(formatDuration(250)).toBe('4m 10s');
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3h 05m');
    expect(formatDuration(20 * 86_400)).toBe('20d 00h');
  });
});

describe('destination flags', () => {
  it('accept a Region, account:Region and account:Region:roleArn', () => {
    expect(parseDestinationFlag('ap-northeast-2')).toBe('ap-northeast-2');
    expect(parseDestinationFlag('444455556666:eu-west-1')).toEqual({
      region: 'eu-west-1',
      registryId: '444455556666',
    });
    expect(parseDestinationFlag('444455556666:eu-west-1:arn:aws:iam::444455556666:role/Writer')).toEqual({
      region: 'eu-west-1',
      registryId: '444455556666',
      roleArn: 'arn:aws:iam::444455556666:role/Writer',
    });
  });

  it.each(['12345:eu-west-1', '444455556666:', '444455556666:eu-west-1:role/Writer'])('refuse %j', (spec) => {
    expect(() => parseDestinationFlag(spec)).toThrow(/is not a destination/);
  });
});

describe('ARNs', () => {
  const arn = 'arn:aws-cn:states:cn-north-1:111122223333:execution:Machine:run-1';

  it('parse execution ARNs and link to the console of their partition', () => {
    expect(parseExecutionArn(arn)).toMatchObject({ region: 'cn-north-1', executionName: 'run-1' });
    expect(executionConsoleUrl(arn)).toMatch(
      /^https:\/\/console\.amazonaws\.cn\/states\/home\?region=cn-north-1#/,
    );
  });

  it('read the label and id of a map run', () => {
    expect(
      parseMapRunArn('arn:aws:states:us-east-1:111122223333:mapRun:Machine/BackfillImages:0a1b-2c'),
    ).toEqual({
      label: 'BackfillImages',
      id: '0a1b-2c',
    });
  });
});

describe('AWS errors become actionable messages', () => {
  it.each([
    [
      { name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' },
      'no AWS credentials found',
      '--profile',
    ],
    [{ name: 'Error', message: 'Region is missing' }, 'no AWS Region configured', '--region'],
    [{ name: 'ExpiredTokenException', message: 'expired' }, 'credentials have expired', 'aws sso login'],
    [
      { name: 'UnrecognizedClientException', message: 'bad token' },
      'rejected the credentials',
      'sts get-caller-identity',
    ],
    [{ name: 'ThrottlingException', message: 'Rate exceeded' }, 'throttled', 'Wait a moment'],
    [
      { name: 'TypeError', message: 'fetch failed', cause: { code: 'ECONNREFUSED' } },
      'cannot reach',
      'network',
    ],
  ])('%o', (error, message, hint) => {
    const explained = explainAwsError(Object.assign(new Error(error.message), error), 'Doing it');

    const text = formatError(explained);
    expect(text).toContain(message);
    expect(text).toContain(hint);
    expect(explained.exitCode).toBe(1);
  });

  it('no credentials against an emulator endpoint: says any keys do, with the variables to set', () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });

    const text = formatError(explainAwsError(error, 'Planning', { endpoint: 'http://127.0.0.1:4599' }));

    expect(text).toContain('Against the local emulator (http://127.0.0.1:4599) any keys do');
    expect(text).toContain('AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x');
  });

  it("no credentials against AWS's endpoints: never suggests made-up keys", () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });

    expect(formatError(explainAwsError(error, 'Planning'))).not.toContain('AWS_SECRET_ACCESS_KEY');
  });

  it('keeps a CliError as it is', () => {
    const original = new CliError('already clear', { exitCode: 2 });
    expect(explainAwsError(original, 'x')).toBe(original);
  });
});

describe('output formatting', () => {
  it('right-aligns numbers in tables', () => {
    expect(
      renderTable(
        ['Name', 'Count'],
        [
          ['a', 5],
          ['bbb', 1234],
        ],
      ),
    ).toBe(['Name  Count', '----  -----', 'a         5', 'bbb   1,234', ''].join('\n'));
  });

  it('quotes CSV fields only when needed', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
  });

  it('quotes shell arguments that need it', () => {
    expect(shellQuote('arn:aws:states:x')).toBe('arn:aws:states:x');
    expect(shellQuote(`{"a":"it's"}`)).toBe(`'{"a":"it'\\''s"}'`);
  });

  it('splits the problems of an InvalidInput cause, one a line', () => {
    expect(
      invalidInputProblems(JSON.stringify({ errorMessage: 'Invalid input:\n- a: bad\n- b: worse' })),
    ).toEqual(['a: bad', 'b: worse']);
  });
});

describe('progress bar', () => {
  const snapshot: ProgressSnapshot = {
    phase: 'Backfilling',
    map: {
      label: 'BackfillImages',
      items: { pending: 0, running: 10, succeeded: 40, failed: 10, timedOut: 0, aborted: 0, total: 100 },
    },
    ratePerSecond: 2,
    etaSeconds: 25,
  };

  it('shows done/total, failures, rate and ETA', () => {
    expect(renderBarLine(snapshot, 160)).toMatch(
      /^Backfilling\s+\[█+░+\]\s+50% 50\/100 BackfillImages items, ok 40, failed 10, running 10 \| 2\.00\/s, ETA 25s$/,
    );
  });

  it('prints a note above the bar and redraws the bar under it', () => {
    const stream = new CapturedStream(true, 120);
    const view = createTtyProgressView(stream);

    view.update(snapshot);
    const bar = stream.text.replace('\r\u001b[2K', '');
    view.note('✗ batch 7 failed');
    view.finish();

    expect(stream.text).toBe(`\r\u001b[2K${bar}\r\u001b[2K✗ batch 7 failed\n${bar}\n`);
  });

  it('never writes past a narrow terminal', () => {
    expect(renderBarLine(snapshot, 40).length).toBeLessThanOrEqual(39);
  });
});

describe('rate estimator', () => {
  it('measures over a sliding window and restarts when counts drop', () => {
    const rate = new RateEstimator(60_000);
    rate.add(0, 0);
    rate.add(10_000, 100);
    expect(rate.ratePerSecond()).toBe(10);
    expect(rate.etaSeconds(200)).toBe(10);
    rate.add(120_000, 160); // the first samples leave the window
    expect(rate.ratePerSecond()).toBeCloseTo(60 / 110, 5);
    rate.add(125_000, 5); // a new map run
    expect(rate.ratePerSecond()).toBeUndefined();
  });
});
