/**
 * A local run's synth (local, demo, bench) prints no deployment-scope warning and no validation
 * report pointing at a temporary cloud assembly; a deployment's synth still prints the warning.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { synthesizeBackfillStack } from '../../synth/synth.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function printedDuring(synth: () => unknown): string {
  const printed: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    printed.push(args.map(String).join(' '));
  });
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    printed.push(args.map(String).join(' '));
  });
  synth();
  return printed.join('\n');
}

describe('synth warnings', () => {
  it('a deployment (no destinationRegions) is warned about writes in EVERY Region', () => {
    const printed = printedDuring(() => synthesizeBackfillStack());

    expect(printed).toContain('EVERY Region');
  }, 120_000);

  it('a local run prints neither the warning nor a report path', () => {
    const printed = printedDuring(() => synthesizeBackfillStack({ localRun: true }));

    expect(printed).not.toContain('EVERY Region');
    expect(printed).not.toContain('A copy of this report can be found in');
  }, 120_000);
});
