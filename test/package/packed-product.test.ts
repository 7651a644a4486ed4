/**
 * The product as a consumer gets it: `npm pack` at the repository root, the tarball installed into
 * an empty folder with aws-cdk-lib and constructs (from the npm registry, fast from the local
 * cache), then plain `node` with no loader: a six-line CDK app synthesizes the construct with every
 * Lambda asset, `npx ecr-backfill --help` lists the AWS-mode commands, `--version` works, `demo`
 * says where the rig is, and the tarball holds none of the offline rig.
 *
 * It packs what `npm run build` left in dist/ (`npm install`/`npm ci` run it through `prepare`):
 * packing with the build would rebuild dist/ under the other test files that synthesize from it.
 * A dist/ older than the sources fails the test with the command to run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};

const CONSUMER_APP = `import { App, Stack } from 'aws-cdk-lib';
import { EcrReplicationBackfill } from 'ecr-backfill';

const app = new App({ outdir: 'cdk.out' });
new EcrReplicationBackfill(new Stack(app, 'Consumer'), 'Backfill');
app.synth();
`;

interface PackedFile {
  path: string;
  size: number;
}
interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: PackedFile[];
}
interface CfnResource {
  Type: string;
  Properties?: { Code?: { S3Key?: unknown }; Handler?: string };
}

function newestMtime(dir: string, suffix: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .reduce((newest, entry) => Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs), 0);
}

describe('the packed product, installed into an empty folder', () => {
  const consumer = mkdtempSync(join(tmpdir(), 'ecr-backfill-consumer-'));
  let packed: PackResult;
  let synthMs = 0;

  beforeAll(async () => {
    const sources = Math.max(
      ...['core', 'functions', 'infra', 'statemachine', 'cli'].map((dir) =>
        newestMtime(join(ROOT, dir), '.ts'),
      ),
    );
    const built = existsSync(join(ROOT, 'dist')) ? newestMtime(join(ROOT, 'dist', 'infra'), '.js') : 0;
    if (built < sources) throw new Error('dist/ is older than the sources: run `npm run build` first');

    const { stdout } = await run(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', consumer],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    packed = (JSON.parse(stdout) as PackResult[])[0] as PackResult;
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        `./${packed.filename}`,
        `aws-cdk-lib@${rootManifest.devDependencies['aws-cdk-lib']}`,
        `constructs@${rootManifest.devDependencies.constructs}`,
      ],
      { cwd: consumer, timeout: 240_000 },
    );
    writeFileSync(join(consumer, 'app.mjs'), CONSUMER_APP);
    const started = Date.now();
    await run(process.execPath, ['app.mjs'], { cwd: consumer, timeout: 120_000 });
    synthMs = Date.now() - started;
    process.stdout.write(
      `packed product: tarball ${packed.size} B, unpacked ${packed.unpackedSize} B, ${packed.files.length} files; consumer synth ${synthMs} ms\n`,
    );
  }, 400_000);

  afterAll(() => {
    rmSync(consumer, { recursive: true, force: true });
  });

  it('synthesizes the state machine and every Lambda function with its bundled asset in cdk.out', () => {
    const template = JSON.parse(
      readFileSync(join(consumer, 'cdk.out', 'Consumer.template.json'), 'utf8'),
    ) as {
      Resources: Record<string, CfnResource>;
    };
    const resources = Object.values(template.Resources);
    const functions = resources.filter((resource) => resource.Type === 'AWS::Lambda::Function');

    expect(resources.filter((resource) => resource.Type === 'AWS::StepFunctions::StateMachine')).toHaveLength(
      1,
    );
    expect(functions).toHaveLength(15);
    for (const fn of functions) {
      const key = String(fn.Properties?.Code?.S3Key);
      expect(key).toMatch(/^[0-9a-f]{64}\.zip$/);
      expect(fn.Properties?.Handler).toBe('index.handler');
      const asset = join(consumer, 'cdk.out', `asset.${key.replace(/\.zip$/, '')}`);
      expect(statSync(join(asset, 'index.mjs')).size).toBeGreaterThan(10_000);
    }
  });

  it('runs `npx ecr-backfill --help` as compiled JavaScript, listing the AWS-mode commands', async () => {
    const { stdout } = await run('npx', ['--no-install', 'ecr-backfill', '--help'], { cwd: consumer });

    for (const command of ['plan', 'start', 'watch', 'redrive', 'report', 'cleanup']) {
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
    expect(stdout).not.toMatch(/^\s+(demo|local|emulator|bench)\b/m);
  });

  it('`npx ecr-backfill --version` prints the version of the packed package.json', async () => {
    const { stdout } = await run('npx', ['--no-install', 'ecr-backfill', '--version'], { cwd: consumer });

    expect(stdout.trim()).toBe(rootManifest.version);
  });

  it('`npx ecr-backfill demo` says the rig is in the source repository, with the commands to get it', async () => {
    const failure = await run('npx', ['--no-install', 'ecr-backfill', 'demo'], { cwd: consumer }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stderr: string },
    );

    expect(failure?.code).toBe(2);
    expect(failure?.stderr).not.toContain('unknown command');
    expect(failure?.stderr).toContain("`demo` is a command of the source repository's offline rig");
    expect(failure?.stderr).toContain('npm install && npx ecr-backfill demo --help');
  });

  it('the packed README names the rig commands only in sections that say they are in the source repository', () => {
    const readme = readFileSync(join(consumer, 'node_modules', 'ecr-backfill', 'README.md'), 'utf8');
    const sections = readme.split(/^(?=## )/m);
    const advertising = sections.filter((section) =>
      /npx ecr-backfill (demo|local|emulator|bench)\b|npm run (demo|bench)\b/.test(section),
    );

    expect(advertising.length).toBeGreaterThan(0);
    for (const section of advertising) expect(section).toMatch(/source repository/);
  });

  it("resolves the package's root only: the rig's entry points are not for consumers", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import('ecr-backfill/core').then(() => console.log('resolved'), (error) => console.log(error.code))",
      ],
      { cwd: consumer },
    );
    expect(stdout.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('ships none of the offline rig, and no TypeScript sources', () => {
    const paths = packed.files.map((file) => file.path);

    expect(paths).toContain('dist/infra/index.js');
    expect(paths).toContain('dist/infra/index.d.ts');
    // package.json says Apache-2.0: the license's text travels with the package.
    expect(paths).toContain('LICENSE');
    expect(paths.filter((path) => /(^|\/)(local|test)\//.test(path))).toEqual([]);
    expect(paths.filter((path) => /ecr-emulator|s3rver|runner\/|bench\//.test(path))).toEqual([]);
    expect(paths.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
    // What only the rig uses lives in the rig: synthesis for tests, template tokens, the docs renderer,
    // and the entry points the rig imports the product through.
    expect(
      paths.filter((path) =>
        /(synth|template-tokens|definition-from-template|reference)\.js$|^dist\/(core|functions|statemachine|cli)\/index\.js$/.test(
          path,
        ),
      ),
    ).toEqual([]);
    const manifest = JSON.parse(
      readFileSync(join(consumer, 'node_modules', 'ecr-backfill', 'package.json'), 'utf8'),
    ) as { dependencies: Record<string, string>; workspaces?: unknown };
    // Powertools is bundled into the Lambda assets: neither the CLI nor the construct loads it.
    for (const rigOnly of [
      's3rver',
      'aws-local-stepfunctions',
      'asl-validator',
      'tsx',
      'esbuild',
      '@aws-lambda-powertools/logger',
      '@aws-lambda-powertools/metrics',
    ]) {
      expect(manifest.dependencies).not.toHaveProperty(rigOnly);
    }
  });
});
