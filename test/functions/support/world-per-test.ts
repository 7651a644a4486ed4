/**
 * The lifecycle the emulator-backed function tests share: one local S3 per test file (s3rver is the
 * slowest part to start), a fresh world (ECR emulator and the steps' deps) per test, and every world
 * a test started closed after it, pass or fail, so no test sees another's registry.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../../local/s3/index.ts';

export interface ClosableWorld {
  close(): Promise<void>;
}

/**
 * Registers the file's hooks (call it once, at the top level of a test file) and returns the function
 * that starts a world inside a test or a `beforeEach`, on the file's S3 with `bucket` in it.
 */
export function worldPerTest<World extends ClosableWorld, Options extends unknown[]>(
  bucket: string,
  start: (s3: LocalS3, ...options: Options) => Promise<World>,
): (...options: Options) => Promise<World> {
  let s3: LocalS3 | undefined;
  const started: World[] = [];
  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: [bucket] });
  });
  afterEach(async () => {
    for (const world of started.splice(0)) await world.close();
  });
  afterAll(async () => {
    await s3?.close();
  });
  return async (...options) => {
    if (!s3) throw new Error('Start a world inside a test or a beforeEach hook, not at collection');
    const world = await start(s3, ...options);
    started.push(world);
    return world;
  };
}
