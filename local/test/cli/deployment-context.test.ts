/**
 * `local` and `demo` read the deployment's context as `cdk synth` does: ./cdk.json's `context`, then
 * `-c key=value` flags (a flag wins), through the construct's own reader.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectContext, deploymentContext } from '../../cli/commands/deployment-context.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function withCdkJson(json: unknown): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'ecr-backfill-context-'));
  await writeFile(join(dir, 'cdk.json'), JSON.stringify(json));
  return dir;
}

describe('the deployment context of local and demo', () => {
  it('reads cdk.json in the working directory, and a -c flag wins over it', async () => {
    // Prepare
    const cwd = await withCdkJson({
      app: 'npx tsx app.ts',
      context: {
        allowedStrategies: ['promote', 'retag-source'],
        repositoryScope: 'team-a/*',
        putImageRatePerSecond: 5,
        '@aws-cdk/core:checkSecretUsage': true,
      },
    });
    const flags = collectContext(
      'repositoryScope=shop/*,tools/*',
      collectContext('allowOverwriteConflicts=true'),
    );

    // Act
    const { props, keys } = deploymentContext(flags, cwd);

    // Assess
    expect(props).toEqual({
      allowedStrategies: ['promote', 'retag-source'],
      repositoryScope: ['shop/*', 'tools/*'],
      putImageRatePerSecond: 5,
      allowOverwriteConflicts: true,
    });
    expect(keys).toEqual([
      'putImageRatePerSecond',
      'allowedStrategies',
      'allowOverwriteConflicts',
      'repositoryScope',
    ]);
  });

  it('is empty without cdk.json or flags', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ecr-backfill-context-'));
    expect(deploymentContext({}, dir)).toEqual({ props: {}, keys: [] });
  });

  it('names every bad value, and refuses a flag that is no key=value or no key the construct reads', async () => {
    const cwd = await withCdkJson({ context: { putImageRatePerSecond: 'fast' } });
    expect(() => deploymentContext({ allowOverwriteConflicts: 'maybe' }, cwd)).toThrow(
      expect.objectContaining({
        hints: expect.arrayContaining([
          expect.stringContaining('Context "putImageRatePerSecond"'),
          expect.stringContaining('Context "allowOverwriteConflicts"'),
        ]) as unknown,
      }),
    );
    expect(() => collectContext('allowedStrategies')).toThrow('expected key=value');
    expect(() => collectContext('allowedStrategy=promote')).toThrow(
      'unknown context key \'allowedStrategy\' (did you mean "allowedStrategies"?)',
    );
    expect(collectContext('@aws-cdk/core:flag=true')).toEqual({ '@aws-cdk/core:flag': 'true' });
  });
});
