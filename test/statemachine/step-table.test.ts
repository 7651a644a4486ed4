/**
 * The step table (core/steps.ts) against the synthesized state machine: every state is declared
 * where it runs, with the kind of state it is; the child enters each batch step for the strategies
 * the table says; and each batch step's phase after it is the phase of what the child does next for
 * that strategy. The table is what the functions, the construct and the CLI read, so a state machine
 * that drifts from it fails here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { STRATEGIES, type Strategy } from '../../core/contracts/contracts.ts';
import { FIRST_PHASE, type BatchPhase } from '../../core/run-files/batch-progress.ts';
import {
  BATCH_STEP_NAMES,
  batchStepOf,
  DISTRIBUTED_MAPS,
  isBatchStep,
  LAMBDA_STEP_NAMES,
  phaseAfter,
  phaseDuring,
  ROUTING_STATES,
  STEPS,
  worksFor,
  type LambdaStepName,
  type RunsIn,
} from '../../core/steps.ts';
import { synthesizeBackfillDefinition } from '../../local/synth/synth.ts';
import { STATE_NAMES } from '../../statemachine/state-names.ts';
import type { AslDefinition, AslState } from './asl.ts';

let definition: AslDefinition;

beforeAll(() => {
  definition = synthesizeBackfillDefinition() as unknown as AslDefinition;
});

const isStep = (name: string): name is LambdaStepName => Object.hasOwn(STEPS, name);

/** Every state of the definition with where it runs: the parent, or the child of the map it is in. */
function statesWhere(graph: AslDefinition, runsIn: RunsIn = 'parent'): Array<[string, RunsIn, AslState]> {
  return Object.entries(graph.States).flatMap(([name, state]): Array<[string, RunsIn, AslState]> => [
    [name, runsIn, state],
    ...(state.ItemProcessor ? statesWhere(state.ItemProcessor, name as RunsIn) : []),
  ]);
}

/** The states a batch child enters for `strategy`, in order (one pass: no retries, no polls). */
function batchPath(strategy: Strategy): string[] {
  const child = definition.States[STATE_NAMES.BackfillImages]?.ItemProcessor;
  if (!child) throw new Error('BackfillImages has no ItemProcessor');
  const path: string[] = [];
  for (let name: string | undefined = child.StartAt; name !== undefined;) {
    const state: AslState | undefined = child.States[name];
    if (!state) throw new Error(`No state ${name} in the batch child`);
    path.push(name);
    if (state.Type === 'Choice') {
      const chosen: { Next: string } | undefined = (state.Choices ?? []).find((choice) => {
        const matches = (condition: Record<string, unknown>): boolean =>
          condition.Variable === '$.BatchInput.strategy' && condition.StringEquals === strategy;
        return matches(choice) || ((choice.Or as Record<string, unknown>[] | undefined) ?? []).some(matches);
      });
      name = chosen?.Next ?? state.Default;
    } else name = state.End ? undefined : state.Next;
  }
  return path;
}

describe('the step table and the state machine', () => {
  it('declares every state where it runs, and no state the machine lacks', () => {
    const declared = [
      ...LAMBDA_STEP_NAMES.map((name) => [name, STEPS[name].runsIn] as const),
      ...Object.keys(DISTRIBUTED_MAPS).map((name) => [name, 'parent'] as const),
      ...Object.entries(ROUTING_STATES).map(([name, state]) => [name, state.runsIn] as const),
    ];
    const synthesized = statesWhere(definition).map(([name, runsIn]) => [name, runsIn] as const);

    expect(new Map(synthesized)).toEqual(new Map(declared));
    expect(synthesized).toHaveLength(declared.length);
  });

  it('makes each step a Lambda Task, each map a Distributed Map labelled by its name, the rest routing', () => {
    for (const [name, , state] of statesWhere(definition)) {
      if (isStep(name)) {
        expect(state.Type, name).toBe('Task');
        expect(state.Resource, name).toMatch(/:lambda:/);
      } else if (Object.hasOwn(DISTRIBUTED_MAPS, name)) {
        expect(state.Type, name).toBe('Map');
        expect(state.Label, name).toBe(name);
      } else expect(['Choice', 'Wait', 'Succeed'], name).toContain(state.Type);
    }
  });

  it.each(STRATEGIES)('enters the batch steps the table says for %s', (strategy) => {
    const entered = batchPath(strategy).filter(isStep);
    const expected = BATCH_STEP_NAMES.filter((step) => {
      return worksFor(step, strategy) || batchStepOf(step).strategies?.otherwise === 'passes';
    });

    expect([...entered].sort()).toEqual([...expected].sort());
  });

  it.each(STRATEGIES)('says, after each batch step, the phase of what the %s child does next', (strategy) => {
    const path = batchPath(strategy);
    /** The phase of the state at `index` onwards: the first that works for the strategy says it. */
    const phaseFrom = (index: number): BatchPhase => {
      for (const name of path.slice(index)) {
        if (name === STATE_NAMES.WaitForReplication) return 'waiting for replication';
        if (isStep(name) && isBatchStep(name) && worksFor(name, strategy)) return phaseDuring(name);
      }
      return 'done';
    };

    for (const [index, name] of path.entries()) {
      if (!isStep(name) || !isBatchStep(name)) continue;
      expect(`${name} → ${phaseAfter(name, strategy)}`).toBe(`${name} → ${phaseFrom(index + 1)}`);
    }
    expect(phaseFrom(0)).toBe(FIRST_PHASE);
  });
});
