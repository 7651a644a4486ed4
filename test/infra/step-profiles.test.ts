/**
 * The IAM table (infra/step-profiles.ts) against what each step's code calls. The local runner does
 * not enforce IAM, so a step that starts calling a new API would pass every local test and fail in
 * AWS with AccessDenied; this reads the step's sources — its own folder and the step folders it
 * imports, as FinishBatch re-runs other steps inline — and requires the matching grant.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LAMBDA_STEPS, type LambdaStepName } from '../../core/contracts/contracts.ts';
import { STEP_PROFILES, type StepProfile } from '../../infra/step-profiles.ts';

const functionsDir = fileURLToPath(new URL('../../functions', import.meta.url));
const stepFolders = new Set<string>(Object.values(LAMBDA_STEPS));

/**
 * The step's own files plus, transitively, every file of another step folder it imports for its
 * value (type-only imports run nothing). Shared helpers are not followed: what matters is which
 * step calls them, which the step's own code shows.
 */
function sourcesOf(folder: string): string[] {
  const seen = new Set<string>();
  const queue = readdirSync(join(functionsDir, folder))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(functionsDir, folder, file));
  const texts: string[] = [];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    texts.push(text);
    for (const match of text.matchAll(/^import (?!type )[^;]*? from '(\.\.\/([a-z-]+)\/[^']+)';/gms)) {
      const [, path, importedFolder] = match;
      if (path && importedFolder && stepFolders.has(importedFolder)) queue.push(join(dirname(file), path));
    }
  }
  return texts;
}

const writes = (profile: StepProfile) => [...profile.sourceWrites, ...profile.destinationWrites];

describe('each step profile grants what the step calls', () => {
  const steps = Object.entries(LAMBDA_STEPS) as [LambdaStepName, string][];

  it.each(steps)('%s', (step, folder) => {
    const code = sourcesOf(folder).join('\n');
    const profile = STEP_PROFILES[step];

    if (/\bputManifest\(|PutImageCommand/.test(code)) expect(writes(profile)).toContain('ecr:PutImage');
    if (/\bdeleteTags\(|BatchDeleteImageCommand/.test(code)) {
      expect(writes(profile)).toContain('ecr:BatchDeleteImage');
    }
    if (/replicationDestinations\(|describeReplicationRules\(|DescribeRegistryCommand/.test(code)) {
      expect(profile.describeRegistry).toBe(true);
    }
    if (/GetRegistryPolicyCommand/.test(code)) expect(profile.readsDestinationRegistryPolicy).toBe(true);
    if (
      /createS3RetagJournal\(|\b(ctx|deps)\.s3\b|\b(putJson|getJson|putText|getText|readJsonLines)\(/.test(
        code,
      )
    ) {
      expect(profile.runBucket).toBe(true);
    }
  });

  it('gives FinishBatch everything the steps it re-runs inline need', () => {
    const finish = STEP_PROFILES.FinishBatch;
    for (const step of ['RetagSourceTags', 'PromoteTags', 'CleanupTempTags', 'CheckReplication'] as const) {
      const profile = STEP_PROFILES[step];
      expect(finish.sourceWrites).toEqual(expect.arrayContaining([...profile.sourceWrites]));
      expect(finish.destinationWrites).toEqual(expect.arrayContaining([...profile.destinationWrites]));
      if (profile.runBucket) expect(finish.runBucket).toBe(true);
    }
  });
});
