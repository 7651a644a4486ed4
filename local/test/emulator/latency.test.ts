import { DescribeRepositoriesCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../ecr-emulator/index.ts';
import { ApiLatency } from '../../ecr-emulator/latency.ts';
import { startHarness, type Harness } from './helpers.ts';

const REGION = 'eu-central-1';

describe('per-call API latency', () => {
  let h: Harness | undefined;
  afterEach(() => h?.close());

  it('draws delays within mean ± jitter, the same sequence for the same seed', () => {
    // Prepare
    const draw = (seed: number) => {
      const latency = new ApiLatency({ meanMs: 25, jitter: 0.5, seed });
      return Array.from({ length: 200 }, () => latency.next());
    };

    // Act
    const a = draw(7);
    const b = draw(7);
    const c = draw(8);

    // Assess
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(12.5);
    expect(Math.max(...a)).toBeLessThanOrEqual(37.5);
    // Jitter, not a constant: the draws spread over most of the band.
    expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(20);
    const mean = a.reduce((sum, ms) => sum + ms, 0) / a.length;
    expect(mean).toBeGreaterThan(22);
    expect(mean).toBeLessThan(28);
  });

  it('is zero by default and rejects a negative mean or a jitter outside [0, 1]', () => {
    expect(new ApiLatency().next()).toBe(0);
    expect(() => new ApiLatency({ meanMs: -1 })).toThrow(/apiLatencyMs/);
    expect(() => new ApiLatency({ meanMs: 10, jitter: 1.5 })).toThrow(/apiLatencyJitter/);
  });

  it('delays every call over HTTP by about the configured latency, recorded in the call log', async () => {
    // Prepare
    h = await startHarness({ apiLatencyMs: 60, apiLatencyJitter: 0 });
    const ecr = h.client(REGION);

    // Act
    const started = performance.now();
    await ecr.send(new DescribeRepositoriesCommand({}));
    const elapsed = performance.now() - started;

    // Assess
    expect(elapsed).toBeGreaterThanOrEqual(58);
    const [entry] = h.emulator.callLog.entries({ operation: 'DescribeRepositories' });
    expect(entry?.durationMs).toBeGreaterThanOrEqual(58);
  });

  it('applies a write half-way through the delay: visible before the caller gets its answer', async () => {
    // Prepare
    h = await startHarness({ apiLatencyMs: 200, apiLatencyJitter: 0 });
    const ecr = h.client(REGION);
    const image = buildDockerImage('latency/put');
    h.emulator.seedImage({ region: REGION, repository: 'app' }, image, { tags: ['v1'] });
    let taggedAt: number | undefined;
    h.emulator.world.on((event) => {
      if (event.type === 'tag-set' && event.tag === 'v2') taggedAt = performance.now();
    });

    // Act
    const started = performance.now();
    await ecr.send(
      new PutImageCommand({ repositoryName: 'app', imageManifest: image.manifest, imageTag: 'v2' }),
    );
    const answeredAt = performance.now();

    // Assess
    expect(taggedAt).toBeDefined();
    expect((taggedAt ?? 0) - started).toBeGreaterThanOrEqual(95);
    expect(answeredAt - (taggedAt ?? 0)).toBeGreaterThanOrEqual(95);
  });
});
