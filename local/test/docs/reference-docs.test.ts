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
});
