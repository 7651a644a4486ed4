/**
 * A resolved RunConfig for tests of the steps after Plan (the engine choice, Summarize, the CLI's
 * report): the execution input's defaults come from the input schema itself, so these fixtures follow
 * the defaults instead of restating them; a test names only the source registry, the destinations and
 * what it varies.
 */
import type { RunConfig } from '../../core/contracts/contracts.ts';
import { parseExecutionInput } from '../../core/contracts/input-schema.ts';

export type RunConfigFixture = Pick<RunConfig, 'sourceRegistryId' | 'destinations'> & Partial<RunConfig>;

export function runConfig(fixture: RunConfigFixture): RunConfig {
  const { sourceRegion = 'ap-south-1', ...given } = fixture;
  return { ...parseExecutionInput({}, { sourceRegion }), sourceRegion, ...given };
}
