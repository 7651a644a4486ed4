// A module resolution hook (https://nodejs.org/api/module.html#customization-hooks) that adds the
// `ecr-backfill-source` condition: the rig imports the product by its package entry points
// (`ecr-backfill/core`, … in package.json `exports`), and under this condition they resolve to the
// product's TypeScript sources, which tsx runs, instead of a build that may be stale or missing.
// `node --conditions=ecr-backfill-source` does the same for a process started by hand.
export const SOURCE_CONDITION = 'ecr-backfill-source';

export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, SOURCE_CONDITION] });
}
