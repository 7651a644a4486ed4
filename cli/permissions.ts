/**
 * What each CLI command calls, declared once: the README's CLI permission table and the attachable
 * policies docs/iam/cli-<command>.json are generated from it (`npm run docs`), and
 * test/cli/permissions.test.ts runs the ECR commands against the local world as an identity holding
 * exactly the generated policy; test/cli/permission-calls.test.ts records the calls every command
 * makes across its scenarios and fails on a call its row does not declare, or a declared action
 * nothing calls.
 *
 * Resources: ECR reads and writes act on repositories (`repository/*`), except the registry-level
 * actions, which have no resource type and take only `*`
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html);
 * Step Functions and the run bucket are named by wildcards users narrow to their deployment.
 */

/** One group of actions a command calls, on one resource, always or on one condition. */
export interface CliGrant {
  readonly actions: readonly string[];
  readonly resource: string;
  /** When the command makes these calls (absent: always), in the table's words. */
  readonly when?: string;
}

export interface CliCommandPermissions {
  /** The commands (and forms) this row covers, as the table names them. */
  readonly forms: readonly string[];
  readonly grants: readonly CliGrant[];
  /** Another command whose calls this one makes too (`--watch`), and when. */
  readonly alsoAs?: { readonly command: CliPermissionCommand; readonly when: string };
}

/** The commands whose calls need AWS permissions. */
export type CliPermissionCommand = 'start' | 'watch' | 'redrive' | 'report' | 'plan' | 'cleanup';

const REPOSITORIES = 'arn:aws:ecr:*:*:repository/*';
const STATE_MACHINES = 'arn:aws:states:*:*:stateMachine:*';
const EXECUTIONS = 'arn:aws:states:*:*:execution:*';
const RUN_OBJECTS = 'arn:aws:s3:::*/runs/*';
const RUN_BUCKETS = 'arn:aws:s3:::*';
const ROLES = 'arn:aws:iam::*:role/*';

const WATCH_STATES = [
  'states:DescribeExecution',
  'states:GetExecutionHistory',
  'states:ListMapRuns',
  'states:DescribeMapRun',
  'states:ListExecutions',
];

export const CLI_PERMISSIONS = {
  start: {
    forms: ['start'],
    grants: [
      { actions: ['states:StartExecution'], resource: STATE_MACHINES },
      {
        actions: ['states:ListStateMachines', 'states:ListTagsForResource'],
        resource: '*',
        when: 'with `--stack-name`',
      },
    ],
    alsoAs: { command: 'watch', when: 'with `--watch`' },
  },
  watch: {
    forms: ['watch', 'start --watch', 'redrive --watch'],
    grants: [
      { actions: WATCH_STATES, resource: '*' },
      { actions: ['s3:ListBucket'], resource: RUN_BUCKETS, when: 'for live tag progress (prefix `runs/`)' },
      { actions: ['s3:GetObject'], resource: RUN_OBJECTS, when: 'for live tag progress' },
      {
        actions: ['ecr:DescribeReplicationBackfillResults'],
        resource: '*',
        when: 'on a native run (the progress of its backfills)',
      },
    ],
  },
  redrive: {
    forms: ['redrive'],
    grants: [
      { actions: ['states:RedriveExecution', 'states:DescribeExecution'], resource: EXECUTIONS },
      {
        actions: ['states:GetExecutionHistory'],
        resource: EXECUTIONS,
        when: 'to tell a configuration `AccessDenied` from a later one',
      },
    ],
    alsoAs: { command: 'watch', when: 'with `--watch`' },
  },
  report: {
    forms: ['report'],
    grants: [
      { actions: ['states:DescribeExecution', 'states:GetExecutionHistory'], resource: EXECUTIONS },
      { actions: ['states:ListMapRuns'], resource: STATE_MACHINES },
      { actions: ['s3:GetObject'], resource: RUN_OBJECTS },
      { actions: ['s3:ListBucket'], resource: RUN_BUCKETS, when: 'to build the report of a failed run' },
      { actions: ['s3:PutObject'], resource: RUN_OBJECTS, when: 'to build the report of a failed run' },
    ],
  },
  plan: {
    forms: ['plan'],
    grants: [
      {
        actions: ['ecr:DescribeRegistry', 'ecr:ListReplicationBackfills'],
        resource: '*',
      },
      {
        actions: ['ecr:DescribeRepositories', 'ecr:DescribeImages', 'ecr:BatchGetImage'],
        resource: REPOSITORIES,
      },
      {
        actions: ['sts:AssumeRole'],
        resource: ROLES,
        when: 'with a `roleArn` destination (the role: [docs/iam/destination-role.json](docs/iam/destination-role.json))',
      },
    ],
  },
  cleanup: {
    forms: ['cleanup'],
    grants: [
      { actions: ['ecr:DescribeRegistry'], resource: '*' },
      { actions: ['ecr:DescribeRepositories', 'ecr:DescribeImages'], resource: REPOSITORIES },
      { actions: ['ecr:BatchDeleteImage'], resource: REPOSITORIES, when: 'with `--yes`' },
      // Whether a run is still going (cli/cleanup/running-runs.ts): its temp tags are spared.
      { actions: ['states:ListExecutions'], resource: STATE_MACHINES, when: 'without `--force`' },
      {
        actions: ['states:DescribeExecution'],
        resource: EXECUTIONS,
        when: 'without `--force`, with `--run`',
      },
      {
        actions: ['states:ListStateMachines', 'states:ListTagsForResource'],
        resource: '*',
        when: 'without `--force`, with `--stack-name`',
      },
    ],
  },
} as const satisfies Record<CliPermissionCommand, CliCommandPermissions>;
export const CLI_PERMISSION_COMMANDS = Object.keys(CLI_PERMISSIONS) as CliPermissionCommand[];

/** Every grant of a command, its `--watch` command's included. */
function grantsOf(command: CliPermissionCommand): CliGrant[] {
  const row: CliCommandPermissions = CLI_PERMISSIONS[command];
  return [...row.grants, ...(row.alsoAs ? grantsOf(row.alsoAs.command) : [])];
}

/**
 * The attachable identity policy of a command: every action it may call (each option's included),
 * one statement per resource.
 */
export function cliPolicy(command: CliPermissionCommand): Record<string, unknown> {
  const byResource = new Map<string, Set<string>>();
  for (const grant of grantsOf(command)) {
    const actions = byResource.get(grant.resource) ?? new Set<string>();
    for (const action of grant.actions) actions.add(action);
    byResource.set(grant.resource, actions);
  }
  return {
    Version: '2012-10-17',
    Statement: [...byResource].map(([resource, actions], index) => ({
      Sid: `EcrBackfillCli${command[0]?.toUpperCase() ?? ''}${command.slice(1)}${index + 1}`,
      Effect: 'Allow',
      Action: [...actions],
      Resource: resource,
    })),
  };
}

const code = (text: string) => `\`${text}\``;

/** The README's table: one row per command, its calls and when, and its policy file (padded as Prettier pads). */
export function renderCliPermissionsTable(): string {
  const rows = CLI_PERMISSION_COMMANDS.map((command) => {
    const row: CliCommandPermissions = CLI_PERMISSIONS[command];
    const always = row.grants.filter((g) => g.when === undefined).flatMap((g) => g.actions);
    const conditional = row.grants
      .filter((g) => g.when !== undefined)
      .map((g) => `${g.when}: ${g.actions.map(code).join(', ')}`);
    const also = row.alsoAs ? [`${row.alsoAs.when}: what ${code(row.alsoAs.command)} needs`] : [];
    const needs = [always.map(code).join(', '), ...conditional, ...also].join('; ');
    return [row.forms.map(code).join(', '), needs, `[cli-${command}.json](docs/iam/cli-${command}.json)`];
  });
  const header = ['Command', 'Needs', 'Policy'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`,
    ...rows.map(line),
    '',
  ].join('\n');
}
