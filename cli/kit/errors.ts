/**
 * Errors the CLI shows to people: what went wrong, and what to do about it.
 *
 * Every failure a command can hit ends here, either thrown as a `CliError` by the command (with
 * hints it knows best) or translated from an SDK error by `explainAwsError`.
 */
import { awsErrorName } from '../../core/errors/errors.ts';
import { EXIT_CODES, type ExitCode } from './exit-codes.ts';

export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** Further lines printed under the message: details, then what to do. */
  readonly hints: string[];

  constructor(message: string, options: { exitCode?: ExitCode; hints?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? EXIT_CODES.error;
    this.hints = options.hints ?? [];
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The command that starts the emulator at `endpoint`'s port. */
export function emulatorCommandFor(endpoint: string): string {
  let port = '';
  try {
    port = new URL(endpoint).port;
  } catch {
    // Not a URL: the plain command, whose default port is the emulator's to say.
  }
  return `npx ecr-backfill emulator${port ? ` --port ${port}` : ''}`;
}

/** The Node network error code (ECONNREFUSED, ENOTFOUND…) anywhere in an error's cause chain. */
export function networkCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Translates an SDK error raised while doing `action` into a message a person can act on.
 * `permission` names the IAM action the call needs, for the access-denied case.
 */
export function explainAwsError(
  error: unknown,
  action: string,
  options: { permission?: string; endpoint?: string } = {},
): CliError {
  if (error instanceof CliError) return error;
  const name = awsErrorName(error) ?? '';
  const message = messageOf(error);
  const fail = (text: string, hints: string[]): CliError => new CliError(text, { hints, cause: error });

  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return fail(`${action}: no AWS credentials found.`, [
      'Configure credentials the usual way (`aws configure`, `aws sso login`, AWS_PROFILE or AWS_ACCESS_KEY_ID),',
      'or pass --profile <name>.',
      // The SDK signs every request, to an emulator too; the emulator accepts any keys. Said only
      // when an endpoint was given: keys are never made up for AWS's own endpoints.
      ...(options.endpoint
        ? [
            `Against the local emulator (${options.endpoint}) any keys do, for example:`,
            '  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x npx ecr-backfill …',
          ]
        : []),
    ]);
  }
  if (/region is missing/i.test(message)) {
    return fail(`${action}: no AWS Region configured.`, [
      'Pass --region <region>, or set AWS_REGION or `region` in your AWS profile.',
    ]);
  }
  if (name === 'ExpiredToken' || name === 'ExpiredTokenException' || /expired/i.test(name)) {
    return fail(`${action}: your AWS credentials have expired.`, [
      'Refresh them (for example `aws sso login`) and run the command again.',
    ]);
  }
  if (
    name === 'UnrecognizedClientException' ||
    name === 'InvalidClientTokenId' ||
    name === 'InvalidSignatureException' ||
    name === 'SignatureDoesNotMatch'
  ) {
    return fail(`${action}: AWS rejected the credentials (${name}).`, [
      'Check the profile/keys in use (`aws sts get-caller-identity`) and the Region.',
    ]);
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'Forbidden') {
    return fail(`${action}: access denied.`, [
      options.permission
        ? `The identity in use needs ${options.permission} on this resource.`
        : 'The identity in use lacks a permission for this call.',
      `AWS said: ${message}`,
    ]);
  }
  if (name === 'ExecutionDoesNotExist' || name === 'StateMachineDoesNotExist') {
    return fail(
      `${action}: ${name === 'ExecutionDoesNotExist' ? 'no such execution' : 'no such state machine'}.`,
      [
        'Check the ARN, and that the account of your credentials owns it (the command uses the ARN’s Region).',
      ],
    );
  }
  if (name === 'InvalidArn') {
    return fail(`${action}: AWS rejected the ARN (${message}).`, [
      'Copy the ARN from `ecr-backfill start` or the console.',
    ]);
  }
  if (name === 'ThrottlingException' || name === 'TooManyRequestsException') {
    return fail(`${action}: AWS throttled the request.`, ['Wait a moment and run the command again.']);
  }
  const networkCode = networkCodeOf(error);
  if (networkCode) {
    return fail(`${action}: cannot reach ${options.endpoint ?? 'the AWS endpoint'} (${networkCode}).`, [
      options.endpoint
        ? `Is the emulator running at that address? Start it with \`${emulatorCommandFor(options.endpoint)}\` (from the source repository).`
        : 'Check your network connection, proxy settings and the Region.',
    ]);
  }
  return fail(`${action} failed: ${name ? `${name}: ` : ''}${message}`, []);
}

/** Renders an error for stderr: the message, then each hint indented. */
export function formatError(error: unknown): string {
  const lines = [`ecr-backfill: ${messageOf(error)}`];
  if (error instanceof CliError) lines.push(...error.hints.map((hint) => `  ${hint}`));
  return `${lines.join('\n')}\n`;
}

export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof CliError ? error.exitCode : EXIT_CODES.error;
}
