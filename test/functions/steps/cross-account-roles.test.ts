/**
 * A push replicates to every destination the rules name, so the steps also meet destinations an
 * item does not list. For a registry in another account the way in is a role; when another item of
 * the batch names that registry's role, the steps must use it there too — a role-less client gets
 * AccessDenied in AWS and the temp tags of that copy would stay behind.
 */
import { describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  harnessPerTest,
  OTHER_ACCOUNT,
  seedSource,
  tagsOf,
  workItem,
} from './support/harness.ts';
import { registryTags, tempTagsIn } from './support/invariants.ts';
import { runPipeline } from './support/pipeline.ts';

const freshHarness = harnessPerTest();

describe('a destination an item does not list, in another account', () => {
  it('is reached with the role another item of the batch names, and left without temp tags', async () => {
    // Prepare: the first item lists only the same-account destination (its push still replicates
    // to the other account); the second lists the other account with its role.
    const h = await freshHarness();
    const onlySame = buildDockerImage('roles-only-same');
    const both = buildDockerImage('roles-both');
    seedSource(h, 'app/roles', onlySame, ['a1']);
    seedSource(h, 'app/roles', both, ['b1']);
    const items = [
      workItem({
        repository: 'app/roles',
        image: onlySame,
        tags: ['a1'],
        destinations: [{ destination: DEST_SAME }],
      }),
      workItem({ repository: 'app/roles', image: both, tags: ['b1'] }),
    ];

    // Act
    const run = await runPipeline(h, batchState(batchInput({ strategy: 'promote' }), items));

    // Assess
    expect(run.error).toBeUndefined();
    const otherAccountTargets = h.targets.filter((target) => target.registryId === OTHER_ACCOUNT);
    expect(otherAccountTargets.length).toBeGreaterThan(0);
    expect(otherAccountTargets.every((target) => target.roleArn === DEST_OTHER.roleArn)).toBe(true);
    expect(tempTagsIn(registryTags(h, DEST_OTHER, 'app/roles'))).toEqual([]);
    expect(tagsOf(h, DEST_OTHER, 'app/roles').get('b1')).toBe(both.digest);
  });
});
