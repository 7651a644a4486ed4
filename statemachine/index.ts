/**
 * `ecr-backfill/statemachine`: the workflow's state names, which the offline rig binds handlers and
 * Distributed Map runs by. For the rig only: see core/index.ts.
 */
export { STATE_NAMES } from './state-names.ts';
