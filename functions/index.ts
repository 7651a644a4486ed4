/**
 * `ecr-backfill/functions`: the Lambda steps, as the offline rig runs them (the same handler code
 * Lambda runs, bound to Task states by name), and the Lambda environment they read. For the rig
 * only: see core/index.ts.
 */
export { readStepEnvironment } from './lambda/handler-deps.ts';
export { createLogger } from './lambda/powertools-logger.ts';
export type { StepHandler } from './lambda/step-handler.ts';
export { createStepHandlers } from './registry.ts';
export { buildRunReport } from './summarize/summarize.ts';
