/**
 * The plumbing every AWS-mode command shares: the `--profile`/`--region` options and an action
 * wrapper that turns any failure into a readable message and a non-zero exit code, and the option
 * parsers and clients several commands use.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { regionOfArn } from '../aws/arn.ts';
import type { AwsOptions } from '../aws/aws-clients.ts';
import { cliContextOf, type CliContext } from './context.ts';
import { exitCodeOf, formatError } from './errors.ts';
import { EXIT_CODES } from './exit-codes.ts';

export function addAwsOptions(command: Command): Command {
  return command
    .option('--profile <name>', 'AWS profile to use (default: the SDK default chain, AWS_PROFILE)')
    .option('--region <region>', 'AWS Region (default: AWS_REGION or the profile’s Region)');
}

export function awsOptionsOf(options: { profile?: string; region?: string }): AwsOptions {
  return {
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.region ? { region: options.region } : {}),
  };
}

/**
 * Runs a command body with the program's context. The body returns the exit code (0 when it
 * returns nothing); anything thrown is printed to stderr with its hints and mapped to an exit code.
 */
export async function runCommand(
  command: Command,
  body: (context: CliContext) => Promise<number | void>,
): Promise<void> {
  const context = cliContextOf(command);
  try {
    const code = await body(context);
    context.setExitCode(code ?? EXIT_CODES.ok);
  } catch (error) {
    context.stderr.write(formatError(error));
    context.setExitCode(exitCodeOf(error));
  }
}

/** Writes one JSON document to stdout (the `--json` output of every command). */
export function writeJson(context: CliContext, value: unknown): void {
  context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** An SFN client in the ARN's Region unless --region says otherwise: an ARN names its Region. */
export function sfnForArn(context: CliContext, aws: AwsOptions, arn: string): SFNClient {
  return context.sfn({ ...aws, ...(aws.region ? {} : { region: regionOfArn(arn) }) });
}

/** Commander's parser for an option that takes a positive number (`--interval`, `--older-than`, …). */
export function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('expected a positive number.');
  return number;
}

/**
 * Commander's parser for `--ecr-endpoint`: an http(s) URL. Without its scheme (`127.0.0.1:4599`)
 * the SDK would fail later with ERR_INVALID_URL, and `localhost:4599` would even parse as a URL of
 * scheme `localhost:`; the scheme is not guessed (http or https is the endpoint's to say).
 */
export function parseEndpointUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') {
    const example = /^[\w.-]+(:\d+)?(\/.*)?$/.test(value) ? `http://${value}` : 'http://127.0.0.1:4599';
    throw new InvalidArgumentError(`expected an http:// or https:// URL, for example ${example}.`);
  }
  return value;
}
