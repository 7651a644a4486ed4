import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { buildImage, buildReferrer, type BuiltImage } from './images.ts';
import { parseMutability, TAG_MUTABILITIES } from './mutability.ts';
import { parseRegistryPolicy } from './registry-policy.ts';
import { fixtureRoleSchema } from './iam/roles.ts';
import { parseReplicationConfiguration } from './operations/replication.ts';
import type { World } from './world.ts';

/**
 * The fixture file: a registry described as JSON (accounts → Regions → repositories → images).
 * Images are given either as a manifest (an exact string, or an object serialized once, compactly) or
 * as a `build` spec for the deterministic image builders (images.ts). Blobs are implied by the
 * manifests, with the sizes they declare. Images of a repository are seeded in the order listed, so an
 * index given as a raw manifest must come after its children; a `build` index seeds its children
 * itself (untagged).
 */

const digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'a sha256 digest');
const timestamp = z.union([z.iso.datetime({ offset: true }), z.number().nonnegative()]);

const platformSchema = z.object({ architecture: z.string(), os: z.string(), variant: z.string().optional() });

export const imageSpecSchema = z.object({
  format: z.enum(['docker', 'oci', 'docker-list', 'oci-index', 'artifact']).default('docker'),
  seed: z.string().min(1),
  layers: z.number().int().min(0).max(64).optional(),
  layerSize: z
    .number()
    .int()
    .min(1)
    .max(16 * 1024 * 1024)
    .optional(),
  platforms: z.array(platformSchema).min(1).optional(),
  attestations: z.boolean().optional(),
  omitMediaType: z.boolean().optional(),
  artifactType: z.string().nullable().optional(),
  configMediaType: z.string().optional(),
  indent: z.number().int().min(0).max(8).optional(),
});

/**
 * An OCI 1.1 referrer of a fixture image (a signature, an SBOM, an attestation): an artifact built from
 * `seed` whose `subject` is that image, seeded untagged after it, as a signer or an SBOM tool pushes it.
 * It may have referrers of its own (a signature of an SBOM).
 */
export interface FixtureReferrer {
  seed: string;
  artifactType: string;
  referrers?: FixtureReferrer[] | undefined;
}
const fixtureReferrerSchema: z.ZodType<FixtureReferrer> = z.lazy(() =>
  z.object({
    seed: z.string().min(1),
    artifactType: z.string().min(1).max(255),
    referrers: z.array(fixtureReferrerSchema).optional(),
  }),
);

export const fixtureImageSchema = z
  .object({
    manifest: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    build: imageSpecSchema.optional(),
    /** Required for a manifest without a top-level mediaType. */
    mediaType: z.string().optional(),
    tags: z.array(z.string().min(1).max(300)).default([]),
    status: z.enum(['ACTIVE', 'ARCHIVED']).default('ACTIVE'),
    pushedAt: timestamp.optional(),
    /** Its referrers (built images only), seeded untagged after it. */
    referrers: z.array(fixtureReferrerSchema).optional(),
    /** Extra blob sizes (e.g. to override what the manifest declares). */
    blobs: z
      .array(z.object({ digest, size: z.number().int().nonnegative(), mediaType: z.string().optional() }))
      .optional(),
  })
  .refine((image) => (image.manifest === undefined) !== (image.build === undefined), {
    message: 'an image needs exactly one of manifest or build',
  })
  .refine((image) => image.referrers === undefined || image.build !== undefined, {
    message: 'referrers are given for a built image (build), whose digest the fixture knows',
  });

const exclusionFilterSchema = z.object({
  filterType: z.literal('WILDCARD'),
  filter: z.string().regex(/^[0-9a-zA-Z._*-]{1,128}$/),
});

export const fixtureRepositorySchema = z.object({
  name: z.string().min(2).max(256),
  imageTagMutability: z.enum(TAG_MUTABILITIES as [string, ...string[]]).default('MUTABLE'),
  imageTagMutabilityExclusionFilters: z.array(exclusionFilterSchema).max(5).optional(),
  createdAt: timestamp.optional(),
  images: z.array(fixtureImageSchema).default([]),
});

const replicationConfigurationSchema = z.object({
  rules: z
    .array(
      z.object({
        destinations: z
          .array(z.object({ region: z.string(), registryId: z.string().regex(/^\d{12}$/) }))
          .min(1),
        repositoryFilters: z
          .array(z.object({ filter: z.string(), filterType: z.literal('PREFIX_MATCH') }))
          .optional(),
        /** Replay source tag removals and image deletions in this rule's destinations. */
        deleteReplication: z.object({ enabled: z.boolean() }).optional(),
      }),
    )
    .max(10),
});

export const fixtureSchema = z.object({
  /** The account calls without registryId act on (overridden by the emulator's `account` option). */
  defaultAccount: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  accounts: z.array(
    z.object({
      id: z.string().regex(/^\d{12}$/),
      /** The account's IAM roles (trust and identity policies), e.g. a destination role the functions assume. */
      roles: z.array(fixtureRoleSchema).default([]),
      regions: z.array(
        z.object({
          region: z.string().regex(/^[0-9a-z-]{2,25}$/),
          replicationConfiguration: replicationConfigurationSchema.optional(),
          /** The registry permissions policy (a policy document, or its JSON text). */
          registryPolicy: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
          repositories: z.array(fixtureRepositorySchema).default([]),
        }),
      ),
    }),
  ),
});

export type Fixture = z.input<typeof fixtureSchema>;
export type ParsedFixture = z.output<typeof fixtureSchema>;

/** The fixture's JSON Schema (for documentation and editors). */
export const fixtureJsonSchema = (): unknown => z.toJSONSchema(fixtureSchema, { io: 'input' });

export class FixtureError extends Error {
  override readonly name = 'FixtureError';
}

export function parseFixture(value: unknown, source = 'fixture'): ParsedFixture {
  const result = fixtureSchema.safeParse(value);
  if (!result.success)
    throw new FixtureError(`${source} is not a valid registry fixture:\n${z.prettifyError(result.error)}`);
  return result.data;
}

export async function loadFixture(path: string): Promise<ParsedFixture> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FixtureError(`cannot read fixture ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FixtureError(`fixture ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseFixture(json, path);
}

const toMs = (value: string | number | undefined): number | undefined =>
  value === undefined ? undefined : typeof value === 'number' ? value : Date.parse(value);

/** Seeds the world from a fixture (directly: no quotas, no call log, no replication). */
export function seedFixture(world: World, fixture: Fixture): void {
  const parsed = parseFixture(fixture);
  for (const account of parsed.accounts) {
    for (const role of account.roles) world.roles.add(account.id, role);
    for (const region of account.regions) {
      const source = { account: account.id, region: region.region };
      if (region.replicationConfiguration) {
        world.setReplicationConfiguration(
          account.id,
          region.region,
          parseReplicationConfiguration(region.replicationConfiguration, source),
        );
      } else {
        world.registry(account.id, region.region);
      }
      if (region.registryPolicy !== undefined) {
        const text =
          typeof region.registryPolicy === 'string'
            ? region.registryPolicy
            : JSON.stringify(region.registryPolicy);
        world.setRegistryPolicy(account.id, region.region, { text, statements: parseRegistryPolicy(text) });
      }
      for (const repo of region.repositories) {
        const { mutability, filters } = parseMutability(
          repo.imageTagMutability,
          repo.imageTagMutabilityExclusionFilters,
        );
        const createdAt = toMs(repo.createdAt);
        world.ensureRepository(account.id, region.region, repo.name, {
          imageTagMutability: mutability,
          imageTagMutabilityExclusionFilters: filters,
          ...(createdAt !== undefined ? { createdAt } : {}),
        });
        for (const image of repo.images) {
          const pushedAt = toMs(image.pushedAt);
          const common = { account: account.id, region: region.region, repository: repo.name };
          const extras = {
            tags: image.tags,
            status: image.status,
            ...(pushedAt !== undefined ? { pushedAt } : {}),
          };
          if (image.build) {
            const built = buildImage(image.build);
            seedBuiltImage(world, common, built, extras);
            seedReferrers(world, common, built, image.referrers ?? [], pushedAt);
          } else {
            const manifest =
              typeof image.manifest === 'string' ? image.manifest : JSON.stringify(image.manifest);
            world.putImageDirect({
              ...common,
              ...extras,
              manifest,
              ...(image.mediaType ? { mediaType: image.mediaType } : {}),
              ...(image.blobs ? { blobs: image.blobs } : {}),
            });
          }
        }
      }
    }
  }
}

/** Seeds `referrers` of `subject` untagged (each before its own referrers), pushed with their subject. */
function seedReferrers(
  world: World,
  where: { account: string; region: string; repository: string },
  subject: BuiltImage,
  referrers: readonly FixtureReferrer[],
  pushedAt: number | undefined,
): void {
  for (const referrer of referrers) {
    const built = buildReferrer(referrer.seed, subject, referrer.artifactType);
    seedBuiltImage(world, where, built, { tags: [], ...(pushedAt !== undefined ? { pushedAt } : {}) });
    seedReferrers(world, where, built, referrer.referrers ?? [], pushedAt);
  }
}

/** Seeds a built image and (first, untagged) its children. */
const isReferrer = (image: BuiltImage): boolean =>
  (JSON.parse(image.manifest) as { subject?: unknown }).subject !== undefined;

export function seedBuiltImage(
  world: World,
  where: { account: string; region: string; repository: string },
  image: BuiltImage,
  extras: { tags?: string[]; status?: 'ACTIVE' | 'ARCHIVED'; pushedAt?: number } = {},
): void {
  for (const child of image.children) {
    if (!world.getImage(where.account, where.region, where.repository, child.digest)) {
      seedBuiltImage(world, where, child, {
        ...(extras.pushedAt !== undefined ? { pushedAt: extras.pushedAt } : {}),
      });
    }
  }
  world.putImageDirect({
    ...where,
    manifest: image.manifest,
    mediaType: image.mediaType,
    // A referrer's blobs (a signature, an SBOM: small) keep their bytes, so GetDownloadUrlForLayer can
    // serve them; other seeded blobs are sizes only (a registry of them would not fit in memory).
    blobs: image.blobs.map((b) => ({
      digest: b.digest,
      size: b.size,
      mediaType: b.mediaType,
      ...(isReferrer(image) ? { bytes: b.content() } : {}),
    })),
    ...extras,
  });
}
