#!/usr/bin/env node
// The CLI is written in TypeScript and runs through tsx's loader, so there is no build step
// between a fresh clone and a working `ecr-backfill` (the Lambdas are bundled by the CDK instead).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
