/**
 * Every state name of the workflow, as the definition uses them. They are declared in the step table
 * (core/steps.ts): the Lambda steps' Task states, the Distributed Maps and the states that only route.
 *
 * The names are the contract with the local runner: it binds Lambda Task states to local handlers by
 * state name (the steps of the table) and replaces the two Distributed Map states by name. CDK uses
 * the construct id as the state name, so the definition creates each state with the id given here.
 */
export { DISTRIBUTED_MAP_STATES, STATE_NAMES, type StateName } from '../core/steps.ts';
