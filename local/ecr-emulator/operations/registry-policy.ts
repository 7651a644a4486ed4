import type { OperationHandler } from '../context.ts';
import { EcrError } from '../errors.ts';
import { parseRegistryPolicy } from '../registry-policy.ts';
import { requireString } from '../validation.ts';

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutRegistryPolicy.html
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetRegistryPolicy.html
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteRegistryPolicy.html
// Each acts on the caller's own registry in the Region (none of them takes a registryId).

const notFound = (account: string) =>
  new EcrError(
    'RegistryPolicyNotFoundException',
    `Registry policy does not exist in the registry with id '${account}'`,
  );

const putRegistryPolicy: OperationHandler = (ctx, input) => {
  const policyText = requireString(input.policyText, 'policyText');
  const statements = parseRegistryPolicy(policyText);
  ctx.world.setRegistryPolicy(ctx.account, ctx.region, { text: policyText, statements });
  return { registryId: ctx.account, policyText };
};

const getRegistryPolicy: OperationHandler = (ctx) => {
  const policy = ctx.world.registry(ctx.account, ctx.region).policy;
  if (!policy) throw notFound(ctx.account);
  return { registryId: ctx.account, policyText: policy.text };
};

const deleteRegistryPolicy: OperationHandler = (ctx) => {
  const policy = ctx.world.registry(ctx.account, ctx.region).policy;
  if (!policy) throw notFound(ctx.account);
  ctx.world.setRegistryPolicy(ctx.account, ctx.region, undefined);
  return { registryId: ctx.account, policyText: policy.text };
};

export const registryPolicyOperations: Record<string, OperationHandler> = {
  PutRegistryPolicy: putRegistryPolicy,
  GetRegistryPolicy: getRegistryPolicy,
  DeleteRegistryPolicy: deleteRegistryPolicy,
};
