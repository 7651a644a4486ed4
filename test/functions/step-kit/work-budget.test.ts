import { describe, expect, it } from 'vitest';
import { PACED_WORK_SHARE, UNLIMITED_BUDGET, workBudget } from '../../../functions/step-kit/work-budget.ts';

/** A Lambda Context whose remaining time the test sets. */
function contextWith(remainingMs: number) {
  const context = { remaining: remainingMs, getRemainingTimeInMillis: () => context.remaining };
  return context;
}

describe('workBudget', () => {
  it('is spent once a third of the starting time has passed, and only after a write', () => {
    const context = contextWith(600_000);
    const budget = workBudget(context);

    // Past the share but no write yet: an invocation always makes progress before it stops.
    context.remaining = 100_000;
    expect(budget.exhausted()).toBe(false);
    budget.recordWrite();
    expect(budget.exhausted()).toBe(true);
  });

  it('is not spent inside the share', () => {
    const context = contextWith(600_000);
    const budget = workBudget(context);
    budget.recordWrite();

    context.remaining = 600_000 * (1 - PACED_WORK_SHARE) + 1;
    expect(budget.exhausted()).toBe(false);
    context.remaining = 600_000 * (1 - PACED_WORK_SHARE) - 1;
    expect(budget.exhausted()).toBe(true);
  });

  it('is measured from the time the invocation had when it started, not from the timeout', () => {
    // A cold start that used 60 s of a 600 s timeout: the budget is a third of the 540 s left.
    const context = contextWith(540_000);
    const budget = workBudget(context);
    budget.recordWrite();

    context.remaining = 540_000 - 179_000;
    expect(budget.exhausted()).toBe(false);
    context.remaining = 540_000 - 181_000;
    expect(budget.exhausted()).toBe(true);
  });

  it('has no limit without a Lambda Context', () => {
    const budget = workBudget(undefined);
    budget.recordWrite();

    expect(budget).toBe(UNLIMITED_BUDGET);
    expect(budget.exhausted()).toBe(false);
  });
});
