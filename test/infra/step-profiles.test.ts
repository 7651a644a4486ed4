/**
 * The IAM guard: each step's `calls` in the step table (core/steps.ts), from which the construct
 * builds its role (infra/step-profiles.ts), against what the step's code calls. The local runner does
 * not enforce IAM, so a step that starts calling a new API would pass every local test and fail in
 * AWS with AccessDenied; a grant its code no longer uses is privilege nobody needs. How the code is
 * read: test/infra/step-calls.ts. Which registry a write goes to (source or destination) is the
 * row's to say; this reads which writes a step makes at all.
 */
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LAMBDA_STEP_NAMES, LAMBDA_STEPS, STEPS, stepOf, type StepCalls } from '../../core/steps.ts';
import { STEP_PROFILES } from '../../infra/step-profiles.ts';
import {
  CONTEXT_MEMBER_NEEDS,
  grantProblems,
  RUN_BUCKET,
  sharedHelperNeeds,
  stepNeeds,
  stepSources,
} from './step-calls.ts';

const helpers = sharedHelperNeeds();

describe("each step's row grants what its code calls, and nothing it does not", () => {
  it.each(LAMBDA_STEP_NAMES)('%s', (step) => {
    const needs = stepNeeds(stepSources(LAMBDA_STEPS[step]), helpers);

    expect(grantProblems(step, stepOf(step).calls, needs)).toEqual([]);
    // Every step calls something: an empty reading would mean the guard read nothing.
    expect(needs.size, step).toBeGreaterThan(0);
  });

  it('reads the helpers the steps call through, and what they reach', () => {
    expect(helpers.get('putManifest')).toEqual(new Set(['ecr:PutImage']));
    expect(helpers.get('deleteTags')).toEqual(new Set(['ecr:BatchDeleteImage']));
    expect(helpers.get('describeReplicationRules')).toEqual(new Set(['ecr:DescribeRegistry']));
    expect(helpers.get('stopBackfill')).toEqual(new Set(['ecr:StopReplicationBackfill']));
    // ListImageReferrers is authorized as ecr:BatchGetImage (its API reference), one of the reads.
    expect(helpers.get('listReferrersTransitively')).toEqual(new Set(['ecr:BatchGetImage']));
  });

  it('knows what every member of the batch steps’ context reaches', () => {
    const path = fileURLToPath(new URL('../../functions/step-kit/step-context.ts', import.meta.url));
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const context = source.statements.find(
      (statement): statement is ts.InterfaceDeclaration =>
        ts.isInterfaceDeclaration(statement) && statement.name.text === 'StepContext',
    );
    const members = (context?.members ?? []).map((member) => member.name?.getText(source));

    // A new member must say here what it reaches, or steps could call through it unseen.
    expect(members.sort()).toEqual(Object.keys(CONTEXT_MEMBER_NEEDS).sort());
  });

  it('gives FinishBatch everything the steps it re-runs inline need', () => {
    const finish = STEPS.FinishBatch.calls;
    for (const step of ['RetagSourceTags', 'PromoteTags', 'CleanupTempTags', 'CheckReplication'] as const) {
      const calls: StepCalls = STEPS[step].calls;
      expect(finish.sourceWrites).toEqual(expect.arrayContaining([...calls.sourceWrites]));
      expect(finish.destinationWrites).toEqual(expect.arrayContaining([...calls.destinationWrites]));
      expect(finish.runData).toEqual(expect.arrayContaining([...calls.runData]));
    }
  });

  it('is the table the construct builds the roles from', () => {
    for (const step of LAMBDA_STEP_NAMES) {
      expect(STEP_PROFILES[step], step).toMatchObject(stepOf(step).calls);
    }
  });
});

describe('the guard fails on a call a step does not declare (the check is not vacuous)', () => {
  /** The step's own sources plus one more file of code (its path only names it). */
  const check = (step: keyof typeof STEPS, path: string, text: string) =>
    grantProblems(
      step,
      stepOf(step).calls,
      stepNeeds([{ path, text }, ...stepSources(LAMBDA_STEPS[step])], helpers),
    );

  it('a write through a core helper in a step that only reads', () => {
    const code = `
      import { putManifest } from '../../core/ecr/ecr.ts';
      export async function fix(ctx, ref, manifest) { await putManifest(ctx.source.client, ref, manifest); }
    `;
    expect(check('VerifyDigests', 'synthetic/fix.ts', code)).toEqual([
      'VerifyDigests calls ecr:PutImage, which its row in core/steps.ts does not grant',
    ]);
  });

  it('the run store in a batch step without the run bucket, and a context member that reads the rules', () => {
    const code = `
      export async function peek(ctx) {
        await ctx.runStore.get(ctx.batch.bucket, 'runs/x');
        return ctx.replicationDestinations('repo');
      }
    `;
    expect(check('CheckReplication', 'synthetic/peek.ts', code)).toEqual([
      'CheckReplication calls ecr:DescribeRegistry, which its row in core/steps.ts does not grant',
      `CheckReplication calls ${RUN_BUCKET}, which its row in core/steps.ts does not grant`,
    ]);
  });

  it('an SDK command or paginator no row grants', () => {
    const code = `
      import { DescribeImageScanFindingsCommand, paginateListImages, type ECRClient } from '@aws-sdk/client-ecr';
      export const scan = (client: ECRClient) => [new DescribeImageScanFindingsCommand({}), paginateListImages];
    `;
    expect(check('NativeCheckBackfill', 'synthetic/scan.ts', code)).toEqual([
      'NativeCheckBackfill calls ecr:DescribeImageScanFindings, which its row in core/steps.ts does not grant',
      'NativeCheckBackfill calls ecr:ListImages, which its row in core/steps.ts does not grant',
    ]);
  });

  it('a grant the code never calls', () => {
    const calls: StepCalls = { ...STEPS.PlanSlice.calls, nativeBackfill: ['ecr:StopReplicationBackfill'] };
    const needs = stepNeeds(stepSources(LAMBDA_STEPS.PlanSlice), helpers);

    expect(grantProblems('PlanSlice', calls, needs)).toEqual([
      'PlanSlice is granted ecr:StopReplicationBackfill, which its code never calls',
    ]);
  });

  it('names in comments and strings do not count', () => {
    const code = `
      // putManifest(ctx.source.client, …) would need ecr:PutImage
      export const note = 'deleteTags( and ctx.runStore are only words here';
    `;
    expect(check('VerifyDigests', 'synthetic/note.ts', code)).toEqual([]);
  });
});
