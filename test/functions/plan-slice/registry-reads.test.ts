/** The planning reads stop paging once the slice has failed elsewhere (their abort signal). */
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { describeAllImages } from '../../../functions/plan-slice/registry-reads.ts';

const ecrMock = mockClient(ECRClient);
afterEach(() => ecrMock.reset());

describe('describeAllImages', () => {
  it('requests no further page once its signal is aborted', async () => {
    const abort = new AbortController();
    ecrMock
      .on(DescribeImagesCommand)
      .callsFakeOnce(() => {
        // The slice fails while this page is on its way back.
        abort.abort();
        return { imageDetails: [{ imageDigest: 'sha256:1' }], nextToken: 'more' };
      })
      .resolves({ imageDetails: [{ imageDigest: 'sha256:2' }] });

    const error = await describeAllImages(
      new ECRClient({ region: 'ap-south-1' }),
      '111111111111',
      'app',
      undefined,
      'ap-south-1 (111111111111)',
      abort.signal,
    ).catch((e: unknown) => e);

    expect((error as Error).name).toBe('AbortError');
    expect(ecrMock.commandCalls(DescribeImagesCommand)).toHaveLength(1);
  });

  it('pages through every page without a signal', async () => {
    ecrMock
      .on(DescribeImagesCommand)
      .resolvesOnce({ imageDetails: [{ imageDigest: 'sha256:1' }], nextToken: 'more' })
      .resolvesOnce({ imageDetails: [{ imageDigest: 'sha256:2' }] });

    const details = await describeAllImages(
      new ECRClient({ region: 'ap-south-1' }),
      '111111111111',
      'app',
      undefined,
      'ap-south-1 (111111111111)',
    );

    expect(details?.map((d) => d.imageDigest)).toEqual(['sha256:1', 'sha256:2']);
  });
});
