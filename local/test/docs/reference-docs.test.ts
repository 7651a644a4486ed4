import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReferenceDocs } from '../../docs/reference.ts';
import { EXECUTION_INPUT_KEYS } from 'ecr-backfill/core';
import { buildProgram } from '../../cli/main.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('the generated reference docs', () => {
  const generated = renderReferenceDocs(buildProgram());

  it.each(Object.keys(generated))('%s is up to date with its source (run `npm run docs`)', (path) => {
    expect(readFileSync(join(root, path), 'utf8')).toBe(generated[path]);
  });

  it('documents every execution input field once', () => {
    const inputDoc = generated['docs/input.md'] ?? '';
    for (const key of EXECUTION_INPUT_KEYS) {
      expect(inputDoc.split(`| \`${key}\` |`)).toHaveLength(2);
    }
  });

  it('documents every command with its help text', () => {
    const cliDoc = generated['docs/cli.md'] ?? '';
    for (const command of [
      'plan',
      'start',
      'watch',
      'redrive',
      'report',
      'cleanup',
      'local',
      'demo',
      'emulator',
    ]) {
      expect(cliDoc).toContain(`## \`ecr-backfill ${command}\``);
    }
  });

  it('lists the commands in the order `--help` does', () => {
    const cliDoc = generated['docs/cli.md'] ?? '';
    const rootHelp = buildProgram().helpInformation();
    const commandsBlock = rootHelp.slice(rootHelp.indexOf('Commands:'));
    const helpOrder = [...commandsBlock.matchAll(/^ {2}([a-z]+) /gm)]
      .map((match) => match[1])
      .filter((name) => name !== 'help');
    const docOrder = [...cliDoc.matchAll(/^## `ecr-backfill ([a-z]+)`$/gm)].map((match) => match[1]);

    expect(helpOrder.length).toBeGreaterThan(5);
    expect(docOrder).toEqual(helpOrder);
  });

  it("keeps each command's exit codes and examples (the text --help prints after the options)", () => {
    const cliDoc = generated['docs/cli.md'] ?? '';
    const section = (command: string): string => {
      const start = cliDoc.indexOf(`## \`ecr-backfill ${command}\``);
      const next = cliDoc.indexOf('\n## ', start + 1);
      return cliDoc.slice(start, next === -1 ? undefined : next);
    };

    for (const command of ['start', 'watch', 'redrive', 'plan']) {
      expect(section(command)).toContain('Exit codes:');
    }
    expect(section('start')).toContain('Examples:');
    expect(section('start')).toContain('ecr-backfill start --stack-name EcrBackfill --dry-run');
    expect(section('local')).toContain('Examples:');
  });
});
