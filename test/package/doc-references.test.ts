/**
 * Comments and docs that name a file name one that exists. A moved or deleted file otherwise leaves
 * readers chasing `functions/shared/x.ts` long after it went; this fails naming each such reference.
 *
 * Two kinds of reference are checked:
 * - repository-relative paths (`functions/…/x.ts`, `docs/x.md`, `local/…/`), anywhere in a source
 *   or doc file: the path must exist;
 * - bare file names (`run-owner.ts`) in comments and Markdown: some file of the repository must be
 *   so named (a bare name is read relative to where the reader is, so only its existence is sure).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SELF = relative(ROOT, fileURLToPath(import.meta.url));

/** The folders a repository-relative path starts with. */
const TOP_FOLDERS = [
  'core',
  'functions',
  'infra',
  'statemachine',
  'cli',
  'local',
  'test',
  'docs',
  'bin',
  '.ci',
];
const REPO_PATH = new RegExp(
  String.raw`(?<![\w./@-])((?:${TOP_FOLDERS.map((folder) => folder.replace('.', '\\.')).join('|')})/[\w./-]*?(?:\.(?:ts|md|json|js|mjs|yml)\b|/))(?![\w*<{-])`,
  'g',
);
const BARE_NAME = /(?<![\w./@-])(?:[\w.-]+\/)*([\w-]+\.(?:ts|md))\b(?![\w*<{(-])/g;

/** File names the product writes (a run's report), not files of the repository. */
const OUTPUT_NAMES = new Set(['report.md']);

interface BrokenReference {
  line: number;
  reference: string;
}

/** The text of a source file a reader takes as prose: its comments (whole lines of them). */
function commentLines(line: string): string {
  const trimmed = line.trim();
  if (trimmed.startsWith('*') || trimmed.startsWith('/*') || trimmed.startsWith('//')) return line;
  const trailing = line.indexOf(' // ');
  return trailing >= 0 ? line.slice(trailing) : '';
}

function brokenReferences(
  file: string,
  text: string,
  exists: (path: string) => boolean,
  fileNames: ReadonlySet<string>,
): BrokenReference[] {
  const markdown = file.endsWith('.md');
  const broken: BrokenReference[] = [];
  text.split('\n').forEach((line, index) => {
    for (const match of line.matchAll(REPO_PATH)) {
      if (!exists(match[1]!)) broken.push({ line: index + 1, reference: match[1]! });
    }
    const prose = markdown ? line : commentLines(line);
    for (const match of prose.matchAll(BARE_NAME)) {
      const name = match[1]!;
      if (!fileNames.has(name) && !OUTPUT_NAMES.has(name))
        broken.push({ line: index + 1, reference: match[0] });
    }
  });
  return broken;
}

function repositoryFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file !== '' && existsSync(join(ROOT, file)));
}

describe('references to files in comments and docs', () => {
  const files = repositoryFiles();
  const fileNames = new Set(files.map((file) => basename(file)));
  const exists = (path: string) => existsSync(join(ROOT, path));
  const scanned = files.filter(
    (file) => /\.(ts|mts|js|mjs|md)$/.test(file) && !file.startsWith('test/fixtures/') && file !== SELF,
  );

  it('reads the sources and docs of the product, the rig and the tests', () => {
    expect(scanned).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/architecture.md',
        'infra/index.ts',
        'local/runner/validate.ts',
      ]),
    );
    expect(scanned.length).toBeGreaterThan(300);
  });

  it('every file they name exists', () => {
    const broken = scanned.flatMap((file) =>
      brokenReferences(file, readFileSync(join(ROOT, file), 'utf8'), exists, fileNames).map(
        ({ line, reference }) => `${file}:${line}: ${reference}`,
      ),
    );
    expect(broken).toEqual([]);
  });

  it('would name a moved file, a missing folder and an unknown bare name (the check is not vacuous)', () => {
    const source = [
      '/**',
      ' * Reads the plan (functions/plan/plan.ts) and the old helpers (functions/shared/contracts.ts),',
      ' * laid out as docs/architecture.md §3 says, under local/no-such-room/; see run-owner.ts and',
      ' * gone-helper.ts. Globs (functions/**) and templates (dist/assets/<step>/) are not paths.',
      ' */',
      "const key = 'plain-code.ts'; // the name in code is not prose",
    ].join('\n');

    expect(brokenReferences('infra/example.ts', source, exists, fileNames)).toEqual([
      { line: 2, reference: 'functions/shared/contracts.ts' },
      { line: 3, reference: 'local/no-such-room/' },
      { line: 4, reference: 'gone-helper.ts' },
    ]);
  });
});
