/**
 * A push replicates to every destination the rules name, so the steps also meet destinations an
 * item does not list. For a registry in another account the way in is a role; when another item of
 * the batch names that registry's role, the steps must use it there too — a role-less client gets
 * AccessDenied in AWS and the temp tags of that copy would stay behind.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_NAMES } from '../../../core/errors/error-names.ts';
import { createCleanupTempTagsHandler } from '../../../functions/cleanup-temp-tags/handler.ts';
import { buildDockerImage, EcrError } from '../../../local/ecr-emulator/index.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  harnessPerTest,
  OTHER_ACCOUNT,
  seedSource,
  SOURCE,
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
    // No role from Plan: the second item's is the only way in.
    const run = await runPipeline(
      h,
      batchState(batchInput({ strategy: 'promote', reachedDestinations: [] }), items),
    );

    // Assess
    expect(run.error).toBeUndefined();
    const otherAccountTargets = h.targets.filter((target) => target.registryId === OTHER_ACCOUNT);
    expect(otherAccountTargets.length).toBeGreaterThan(0);
    expect(otherAccountTargets.every((target) => target.roleArn === DEST_OTHER.roleArn)).toBe(true);
    expect(tempTagsIn(registryTags(h, DEST_OTHER, 'app/roles'))).toEqual([]);
    expect(tagsOf(h, DEST_OTHER, 'app/roles').get('b1')).toBe(both.digest);
  });

  it('is reached with the role Plan chose for it (BatchInput.reachedDestinations) when no item lists it', async () => {
    // Prepare: no item lists the other account; the run did not select it, but its pushes reach it.
    const h = await freshHarness();
    const image = buildDockerImage('roles-unselected');
    seedSource(h, 'app/unselected', image, ['u1']);
    const items = [
      workItem({
        repository: 'app/unselected',
        image,
        tags: ['u1'],
        destinations: [{ destination: DEST_SAME }],
      }),
    ];
    const input = batchInput({ strategy: 'retag-source', reachedDestinations: [DEST_OTHER] });

    // Act
    const run = await runPipeline(h, batchState(input, items));

    // Assess
    expect(run.error).toBeUndefined();
    const otherAccountTargets = h.targets.filter((target) => target.registryId === OTHER_ACCOUNT);
    expect(otherAccountTargets.length).toBeGreaterThan(0);
    expect(otherAccountTargets.every((target) => target.roleArn === DEST_OTHER.roleArn)).toBe(true);
    expect(tempTagsIn(registryTags(h, DEST_OTHER, 'app/unselected'))).toEqual([]);
    expect(tagsOf(h, DEST_SAME, 'app/unselected').get('u1')).toBe(image.digest);
  });

  it('a denial while cleaning it fails CleanupTempTags (the source keeps its temp tag); the step re-run removes both', async () => {
    // Prepare: the other account refuses our deletes until "the grant is back".
    const h = await freshHarness();
    const image = buildDockerImage('roles-denied-cleanup');
    seedSource(h, 'app/denied', image, ['d1']);
    const items = [
      workItem({ repository: 'app/denied', image, tags: ['d1'], destinations: [{ destination: DEST_SAME }] }),
    ];
    const input = batchInput({ strategy: 'promote', reachedDestinations: [DEST_OTHER] });
    const denial = h.emulator.faults.add({
      operation: 'BatchDeleteImage',
      account: OTHER_ACCOUNT,
      error: new EcrError('AccessDeniedException', 'not authorized to perform: ecr:BatchDeleteImage'),
      times: Infinity,
    });

    // Act
    const run = await runPipeline(h, batchState(input, items));

    // Assess: the step failed with the denial; nothing pretended the temp tag was gone.
    expect(run.error?.name).toBe(ERROR_NAMES.AccessDenied);
    expect(run.inputs.FinishBatch).toBeUndefined();
    expect(denial.hits).toBeGreaterThan(0);
    expect(tempTagsIn(registryTags(h, DEST_OTHER, 'app/denied'))).toHaveLength(1);
    expect(tempTagsIn(registryTags(h, SOURCE, 'app/denied'))).toHaveLength(1);

    // Act: a retry or redrive runs the failed step again with the same input, once the grant is back.
    denial.remove();
    await createCleanupTempTagsHandler(h.deps)(structuredClone(run.inputs.CleanupTempTags!));

    // Assess
    expect(tempTagsIn(registryTags(h, DEST_OTHER, 'app/denied'))).toEqual([]);
    expect(tempTagsIn(registryTags(h, SOURCE, 'app/denied'))).toEqual([]);
    expect(tagsOf(h, DEST_SAME, 'app/denied').get('d1')).toBe(image.digest);
  });
});
