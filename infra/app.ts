/**
 * The CDK app (`cdk.json` runs it): `npx cdk synth` works offline, without Docker or an account.
 *
 * Options come from context, e.g. `npx cdk deploy -c startOnDeploy=true -c repositoryPrefixes=team-a/`
 * (see CONTEXT_KEYS in context.ts). AWS Solutions checks from cdk-nag run on every synth: any
 * unacknowledged finding stops it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BackfillStack } from './backfill-stack.ts';
import { readAppOptions, type ContextKey } from './context.ts';

const app = new App();
const options = readAppOptions(
  (key: ContextKey): unknown => app.node.tryGetContext(key),
  Object.keys(app.node.getAllContext() as Record<string, unknown>),
);
new BackfillStack(app, options.stackName, {
  ...(options.env ? { env: options.env } : {}),
  backfill: options.backfill,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
