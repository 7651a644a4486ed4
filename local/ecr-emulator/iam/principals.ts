/**
 * The principals the emulator knows by access key: role sessions registered by whoever runs code as
 * them (the local runner registers the synthesized template's roles before an execution). A caller
 * whose access key names no registered principal acts as its account's root user (an access key
 * ending in 12 digits names the account, server.ts): everything in its own account, and in another
 * account what that registry's policy allows it.
 *
 * Registration is an HTTP call (`POST /_local/iam/principals`, JSON `{principals: [...]}`), so that a
 * runner reaches an emulator in another process the same way.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { Principal } from '../../iam/evaluate.ts';

export const IAM_PRINCIPALS_PATH = '/_local/iam/principals';

const PolicySchema = z.record(z.string(), z.unknown());
const RegisteredPrincipalSchema = z.object({
  accessKeyId: z.string().min(16),
  arn: z.string().regex(/^arn:aws:(sts|iam)::\d{12}:/, 'must be an IAM or STS ARN'),
  account: z.string().regex(/^\d{12}$/, 'must be 12 digits'),
  roleArn: z.string().optional(),
  identityPolicies: z.array(z.object({ name: z.string(), policy: PolicySchema })),
  sessionPolicy: PolicySchema.optional(),
});
export const RegisterPrincipalsSchema = z.object({ principals: z.array(RegisteredPrincipalSchema) });
export type RegisteredPrincipal = z.infer<typeof RegisteredPrincipalSchema>;

export class EmulatorPrincipals {
  private readonly byAccessKey = new Map<string, Principal>();

  register(principals: readonly RegisteredPrincipal[]): void {
    for (const { accessKeyId, ...principal } of principals) this.byAccessKey.set(accessKeyId, principal);
  }

  /** The registered principal of an access key, if any. */
  get(accessKeyId: string | undefined): Principal | undefined {
    return accessKeyId === undefined ? undefined : this.byAccessKey.get(accessKeyId);
  }

  clear(): void {
    this.byAccessKey.clear();
  }
}

/** Reads a registration body; the problems are named (nothing is registered on invalid input). */
export function parseRegistration(body: Buffer): RegisteredPrincipal[] | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { problem: 'The body is not JSON' };
  }
  const parsed = RegisterPrincipalsSchema.safeParse(json);
  if (!parsed.success)
    return { problem: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  return parsed.data.principals;
}

export const isRegistrationRequest = (req: IncomingMessage): boolean =>
  req.method === 'POST' && req.url === IAM_PRINCIPALS_PATH;
