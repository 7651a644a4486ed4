/**
 * The deployer's own inputs (`defaultInput`, `startOnDeploy.input`), checked at synth, so a typo or
 * an input the deployment cannot run fails `cdk synth` naming the field instead of the first
 * execution after `cdk deploy`: the execution input's schema (the one Plan parses with), the run
 * policy's rules (the ones Plan applies), and the construct's own props (the Regions, roles and
 * accounts the functions are granted).
 */
import { Token } from 'aws-cdk-lib';
import type { ExecutionInput } from '../core/contracts/execution-input.ts';
import { executionInputProblems } from '../core/contracts/input-schema.ts';
import { policyChoicesOf, runPolicyProblems, type RunPolicy } from '../core/contracts/run-policy.ts';

/** The props this check reads (a subset of EcrReplicationBackfillProps). */
export interface DeployerInputProps {
  readonly defaultInput?: ExecutionInput;
  readonly startOnDeploy?: { readonly input?: ExecutionInput };
  readonly destinationRegions?: readonly string[];
  readonly destinationRoleArns?: readonly string[];
  readonly directAccounts?: readonly string[];
  readonly replication?: {
    readonly rules: ReadonlyArray<{
      readonly destinations: ReadonlyArray<{ readonly region: string; readonly registryId?: string }>;
    }>;
  };
}

/** Every problem of the deployer's inputs, each named by its prop and field (`defaultInput.tags[0]: …`). */
export function deployerInputProblems(
  props: DeployerInputProps,
  policy: RunPolicy,
  stackAccount: string | undefined,
): string[] {
  const defaults = asRecord(props.defaultInput ?? {});
  const inputs: [string, Record<string, unknown>][] = [['defaultInput', defaults]];
  if (props.startOnDeploy) inputs.push(['startOnDeploy.input', asRecord(props.startOnDeploy.input ?? {})]);

  const problems: string[] = [];
  for (const [name, input] of inputs) {
    const schemaProblems = executionInputProblems(input, `${name}.`);
    problems.push(...schemaProblems);
    // The execution starts with startOnDeploy.input merged over defaultInput (Plan merges them).
    const effective = name === 'defaultInput' ? input : { ...defaults, ...input };
    problems.push(...runPolicyProblems(policyChoicesOf(effective), policy, `${name}.`));
    problems.push(...destinationProblems(input, `${name}.`, props, stackAccount));
  }
  if (props.startOnDeploy && problems.length === 0) {
    // Each is valid alone; their merge can still break a cross-field rule (wait vs timeout).
    problems.push(
      ...executionInputProblems(
        { ...defaults, ...asRecord(props.startOnDeploy.input ?? {}) },
        'startOnDeploy.input (over defaultInput).',
      ),
    );
  }
  return [...new Set(problems)];
}

/** The input as data: the type says ExecutionInput, but a JavaScript caller or context may say anything. */
function asRecord(input: unknown): Record<string, unknown> {
  return input as Record<string, unknown>;
}

/** The destinations an input names, checked against what the functions are granted. */
function destinationProblems(
  input: Record<string, unknown>,
  where: string,
  props: DeployerInputProps,
  stackAccount: string | undefined,
): string[] {
  const destinations = Array.isArray(input.destinations) ? (input.destinations as unknown[]) : [];
  const resolved = (values: readonly string[] | undefined) =>
    values && !values.some((value) => Token.isUnresolved(value)) ? values : undefined;
  const regions = resolved(props.destinationRegions);
  const roles = resolved(props.destinationRoleArns ?? []);
  const directAccounts = resolved(props.directAccounts ?? []);
  const account = stackAccount && !Token.isUnresolved(stackAccount) ? stackAccount : undefined;
  const managed = props.replication?.rules.flatMap((rule) => rule.destinations);

  return destinations.flatMap((entry, index) => {
    const destination = typeof entry === 'string' ? { region: entry } : entry;
    if (typeof destination !== 'object' || destination === null) return [];
    const { region, registryId, roleArn } = destination as {
      region?: unknown;
      registryId?: unknown;
      roleArn?: unknown;
    };
    // A malformed field is the schema's to report.
    if (typeof region !== 'string') return [];
    const at = `${where}destinations[${index}]`;
    const problems: string[] = [];
    if (regions && !regions.includes(region)) {
      problems.push(
        `${at}: ${region} is not among destinationRegions (${regions.join(', ')}), so the functions may not write there: add it to destinationRegions or drop the destination`,
      );
    }
    if (
      managed &&
      !managed.some(
        (d) =>
          d.region === region && (typeof registryId !== 'string' || registryId === (d.registryId ?? account)),
      )
    ) {
      problems.push(
        `${at}: ${region}${typeof registryId === 'string' ? ` (${registryId})` : ''} is not a destination of the managed replication (replication.rules), and Plan refuses a destination no rule replicates to`,
      );
    }
    if (typeof roleArn === 'string' && roles && !roles.includes(roleArn)) {
      problems.push(
        `${at}.roleArn: ${roleArn} is not among destinationRoleArns (${roles.join(', ') || 'none'}), the only roles the functions may assume: add it there`,
      );
    }
    if (
      typeof registryId === 'string' &&
      roleArn === undefined &&
      account !== undefined &&
      registryId !== account &&
      directAccounts &&
      !directAccounts.includes(registryId)
    ) {
      problems.push(
        `${at}: account ${registryId} is another account, reached neither through a roleArn (one of destinationRoleArns) nor directAccounts: give the destination a roleArn or add ${registryId} to directAccounts`,
      );
    }
    return problems;
  });
}
