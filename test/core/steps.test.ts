/**
 * What the other layers derive from the step table (core/steps.ts): the names, the continuing steps,
 * the strategies' own steps and the CLI's phases. The state machine is held to the table in
 * test/statemachine/step-table.test.ts, each step's code to its calls in test/infra/step-profiles.test.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  cliPhaseOf,
  CONTINUABLE_STEPS,
  DISTRIBUTED_MAP_STATES,
  DISTRIBUTED_MAPS,
  LAMBDA_STEP_NAMES,
  LAMBDA_STEPS,
  ROUTING_STATES,
  STATE_NAMES,
  strategyOnlyStepsOf,
} from '../../core/steps.ts';

const FUNCTIONS = fileURLToPath(new URL('../../functions', import.meta.url));

describe('the step table', () => {
  it('names every state once, each name its own value', () => {
    const names = [...LAMBDA_STEP_NAMES, ...Object.keys(DISTRIBUTED_MAPS), ...Object.keys(ROUTING_STATES)];

    expect(new Set(names).size).toBe(names.length);
    expect(Object.entries(STATE_NAMES)).toEqual(names.map((name) => [name, name]));
    expect(DISTRIBUTED_MAP_STATES).toEqual(['PlanSlices', 'BackfillImages', 'NativeBackfills']);
  });

  it('gives each step a code folder with a handler module, one folder per step', () => {
    for (const step of LAMBDA_STEP_NAMES) {
      expect(existsSync(join(FUNCTIONS, LAMBDA_STEPS[step], 'handler.ts')), step).toBe(true);
    }
    expect(new Set(Object.values(LAMBDA_STEPS)).size).toBe(LAMBDA_STEP_NAMES.length);
  });

  it('derives the paced steps that continue, and each strategy’s own steps', () => {
    expect(CONTINUABLE_STEPS).toEqual(['PushTempTags', 'RetagSourceTags', 'PromoteTags', 'FinishBatch']);
    expect(strategyOnlyStepsOf('promote')).toEqual([]);
    expect(strategyOnlyStepsOf('retag-source')).toEqual(['RetagSourceTags']);
  });

  it("gives the CLI a phase for the states the parent shows, none for the others or another's", () => {
    const shown = Object.fromEntries(
      Object.keys(STATE_NAMES).flatMap((name) => {
        const phase = cliPhaseOf(name);
        return phase === undefined ? [] : [[name, phase]];
      }),
    );

    expect(shown).toEqual({
      Plan: 'Planning',
      PlanSlices: 'Planning',
      FinalizePlan: 'Planning',
      ChooseEngine: 'Planning',
      NativeBackfills: 'Native backfill',
      NativeVerify: 'Verifying',
      NeedsRepair: 'Verifying',
      BackfillImages: 'Backfilling',
      Summarize: 'Summarizing',
    });
    for (const name of ['IsDryRun', 'SomeOtherState', 'constructor', '__proto__', 'toString']) {
      expect(cliPhaseOf(name), name).toBeUndefined();
    }
  });
});
