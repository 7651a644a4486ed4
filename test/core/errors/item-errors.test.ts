import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { ERROR_NAMES } from '../../../core/errors/error-names.ts';
import { ItemErrors } from '../../../core/errors/item-errors.ts';

const sdkError = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('ItemErrors', () => {
  it('throws nothing when every item went well', () => {
    expect(() => new ItemErrors(new Logger({ logLevel: 'SILENT' }), 'Step').throwIfAny()).not.toThrow();
  });

  it('throws the most retryable error, its message counting the others', () => {
    // Prepare
    const errors = new ItemErrors(new Logger({ logLevel: 'SILENT' }), 'PushTempTags');
    errors.record(sdkError('AccessDeniedException', 400), 'item a');
    errors.record(sdkError('ServerException', 500), 'item b');
    errors.record(sdkError('ThrottlingException', 400), 'item c');

    // Act
    let thrown: Error | undefined;
    try {
      errors.throwIfAny();
    } catch (error) {
      thrown = error as Error;
    }

    // Assess
    expect(thrown?.name).toBe(ERROR_NAMES.Throttled);
    expect(thrown?.message).toMatch(
      /^PushTempTags: item c: ThrottlingException \(and 2 more item error\(s\)\)$/,
    );
  });

  it('keeps an unexpected error as it is, after the retryable ones', () => {
    const errors = new ItemErrors(new Logger({ logLevel: 'SILENT' }), 'Step');
    errors.record(new TypeError('bug'), 'item a');
    expect(() => errors.throwIfAny()).toThrow(TypeError);
  });
});
