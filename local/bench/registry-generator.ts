/**
 * A generated registry for the bench and the reliability suites: deterministic for a seed, seeded
 * into the ECR emulator directly (no quota, no call log, no replication: everything "existed before
 * replication was configured"), with the ground truth of what a backfill has to do.
 *
 * The mix, per repository (weights in IMAGE_MIX):
 * - single-platform Docker v2 and OCI manifests (some OCI without a top-level mediaType),
 *   multi-arch OCI indexes with buildx attestation manifests, Docker manifest lists;
 * - 1…(2 × tagsPerImage − 1) tags per image (average tagsPerImage), `latest` on the newest image;
 * - now and then an untagged build and an archived image (both skipped by default, docs/architecture.md §3.2 7–8);
 * - some images already in a destination with some of their tags (ALREADY_PRESENT, or only the
 *   digest present), and a few destination tags on another digest (CONFLICT);
 * - OCI 1.1 referrers, untagged as signing tools push them: a signature (Notation or Cosign) on a
 *   share of the images, an SPDX SBOM on another share, and a signature of the SBOM on some of those
 *   (a referrer of a referrer). An image already in a destination has its referrers there half the
 *   time (signed by the same pipeline before replication existed).
 * Replication rules: `app/` → every destination, `svc/` → the first destination only, and
 * `internal/` repositories no rule covers (NOT_COVERED, never touched).
 */
import {
  allowAccountsPolicy,
  CROSS_ACCOUNT_BACKFILL_ACTIONS,
  parseRegistryPolicy,
} from '../ecr-emulator/registry-policy.ts';
import type { EcrEmulator, ReplicationDestination } from '../ecr-emulator/index.ts';
import {
  ARTIFACT_TYPES,
  buildImage,
  buildReferrer,
  type BuiltImage,
  type ImageSpec,
} from '../ecr-emulator/index.ts';

export type ImageFormat = NonNullable<ImageSpec['format']>;
import { createRandom, type Random } from './random.ts';

export const BENCH_SOURCE_ACCOUNT = '111111111111';
export const BENCH_OTHER_ACCOUNT = '222222222222';
export const BENCH_SOURCE_REGION = 'ap-south-1';
/** Destination Regions in order; every second destination is in another account. */
export const DESTINATION_REGIONS = [
  'ap-northeast-2',
  'eu-west-1',
  'us-west-2',
  'us-east-1',
  'ap-southeast-1',
  'eu-central-1',
  'sa-east-1',
  'ca-central-1',
] as const;

export type RegistryMix = 'realistic' | 'single-arch';

export interface RegistryShape {
  seed: number;
  /** Repositories, covered and not (about one in six is outside every replication rule). */
  repositories: number;
  imagesPerRepository: number;
  /** Average tags per tagged image. */
  tagsPerImage: number;
  destinations: number;
  /** 'single-arch' (Docker and OCI manifests only) keeps very large registries light. Default 'realistic'. */
  mix?: RegistryMix;
  /** Share of covered images already in their first destination (with some of their tags). Default 0.12. */
  presentShare?: number;
  /** Share of covered images one of whose tags points to another digest in a destination. Default 0.03. */
  conflictShare?: number;
  /** Share of images archived in the source. Default 0.02 (0 for single-arch). */
  archivedShare?: number;
  /** Share of repositories with one extra untagged build. Default 0.3 (0 for single-arch). */
  untaggedShare?: number;
  /** Share of images with a signature referrer (Notation or Cosign). Default 0 (the bench sets its own). */
  signedShare?: number;
  /**
   * Share of images with an SBOM referrer; an SBOM is itself signed with the probability
   * `signedShare` (the pipeline that signs images signs their SBOMs too). Default 0.
   */
  sbomShare?: number;
  /** Every repository covered by the rules (no `internal/` ones). Default false. */
  allCovered?: boolean;
  sourceRegion?: string;
  sourceAccount?: string;
}

export interface GeneratedImage {
  digest: string;
  mediaType: string;
  kind: 'image' | 'index';
  format: ImageFormat;
  tags: string[];
  status: 'ACTIVE' | 'ARCHIVED';
  /** Its OCI 1.1 referrers, transitively (a signature of its SBOM too), in the source. */
  referrers: GeneratedReferrer[];
}

/** An untagged OCI 1.1 referrer in the source: `subject` is the image's digest or another referrer's. */
export interface GeneratedReferrer {
  digest: string;
  artifactType: string;
  subject: string;
}

/** What a destination held before the run, per repository. */
export interface DestinationContent {
  destination: number;
  /** tag → digest */
  tags: Map<string, string>;
  digests: Set<string>;
}

export interface GeneratedRepository {
  name: string;
  /** Indices of the destinations whose rules cover this repository. */
  coveredBy: number[];
  images: GeneratedImage[];
  destinations: DestinationContent[];
}

export interface GeneratedRegistry {
  shape: Required<RegistryShape>;
  sourceAccount: string;
  sourceRegion: string;
  destinations: ReplicationDestination[];
  rules: {
    destinations: ReplicationDestination[];
    repositoryFilters: { filter: string; filterType: 'PREFIX_MATCH' }[];
  }[];
  repositories: GeneratedRepository[];
}

const IMAGE_MIX: readonly (readonly [ImageFormat | 'oci-bare', number])[] = [
  ['docker', 30],
  ['oci', 15],
  ['oci-bare', 5],
  ['oci-index', 35],
  ['docker-list', 15],
];
const SINGLE_ARCH_MIX: readonly (readonly [ImageFormat | 'oci-bare', number])[] = [
  ['docker', 60],
  ['oci', 30],
  ['oci-bare', 10],
];

const DAY_MS = 86_400_000;
const EPOCH = Date.UTC(2024, 0, 1);

/** Throws a RangeError naming the field when a share is not a number in [0, 1]. */
function requireShare(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw new RangeError(`${name} must be a number between 0 and 1, got ${value}`);
  }
}

export function resolveShape(shape: RegistryShape): Required<RegistryShape> {
  const single = shape.mix === 'single-arch';
  for (const name of [
    'presentShare',
    'conflictShare',
    'archivedShare',
    'untaggedShare',
    'signedShare',
    'sbomShare',
  ] as const) {
    requireShare(name, shape[name]);
  }
  return {
    mix: 'realistic',
    presentShare: 0.12,
    conflictShare: 0.03,
    archivedShare: single ? 0 : 0.02,
    untaggedShare: single ? 0 : 0.3,
    signedShare: 0,
    sbomShare: 0,
    allCovered: false,
    sourceRegion: BENCH_SOURCE_REGION,
    sourceAccount: BENCH_SOURCE_ACCOUNT,
    ...shape,
  };
}

export function benchDestinations(
  count: number,
  sourceAccount = BENCH_SOURCE_ACCOUNT,
): ReplicationDestination[] {
  if (!Number.isInteger(count) || count < 1 || count > DESTINATION_REGIONS.length) {
    throw new RangeError(`destinations must be an integer in 1..${DESTINATION_REGIONS.length}, got ${count}`);
  }
  return DESTINATION_REGIONS.slice(0, count).map((region, i) => ({
    region,
    registryId: i % 2 === 1 ? BENCH_OTHER_ACCOUNT : sourceAccount,
  }));
}

/** Repository i: `internal/` (uncovered) for one in six, else `svc/` for one in three, else `app/`. */
function repositoryName(
  i: number,
  allCovered: boolean,
): { name: string; family: 'app' | 'svc' | 'internal' } {
  const family = !allCovered && i % 6 === 5 ? 'internal' : i % 3 === 1 ? 'svc' : 'app';
  return { name: `${family}/service-${String(i).padStart(4, '0')}`, family };
}

function tagNames(random: Random, imageIndex: number, count: number): string[] {
  const base = `1.${Math.floor(imageIndex / 10)}.${imageIndex % 10}`;
  const candidates = [
    `v${base}`,
    `${base}-build.${random.int(100, 999)}`,
    `sha-${random.int(0, 0xfffffff).toString(16).padStart(7, '0')}`,
    `release-${imageIndex}`,
    `v${base}-rc.${random.int(1, 9)}`,
  ];
  const tags = candidates.slice(0, Math.min(count, candidates.length));
  for (let extra = tags.length; extra < count; extra += 1) tags.push(`v${base}-extra.${extra}`);
  return tags;
}

function build(format: ImageFormat | 'oci-bare', seed: string): BuiltImage {
  const common = { seed, layers: 2, layerSize: 64 };
  return format === 'oci-bare'
    ? buildImage({ ...common, format: 'oci', omitMediaType: true })
    : buildImage({ ...common, format });
}

const SIGNATURE_TYPES = [ARTIFACT_TYPES.notationSignature, ARTIFACT_TYPES.cosignSignature] as const;

/** The referrers an image gets (not yet seeded): built, with their subject's digest. */
function buildReferrers(
  random: Random,
  shape: Required<RegistryShape>,
  image: BuiltImage,
  seed: string,
): { built: BuiltImage; record: GeneratedReferrer }[] {
  const made: { built: BuiltImage; record: GeneratedReferrer }[] = [];
  const add = (subject: BuiltImage, name: string, artifactType: string): BuiltImage => {
    const built = buildReferrer(`${seed}/${name}`, subject, artifactType);
    made.push({ built, record: { digest: built.digest, artifactType, subject: subject.digest } });
    return built;
  };
  const signatureType = (): string => SIGNATURE_TYPES[random.int(0, SIGNATURE_TYPES.length - 1)] as string;
  if (random.chance(shape.signedShare)) add(image, 'signature', signatureType());
  if (random.chance(shape.sbomShare)) {
    const sbom = add(image, 'sbom', ARTIFACT_TYPES.spdxSbom);
    if (random.chance(shape.signedShare)) add(sbom, 'sbom/signature', signatureType());
  }
  return made;
}

/**
 * Generates the registry and seeds it into the emulator in one pass (each image is built once and
 * only its digest kept, so 100,000 images stay light). Returns the ground truth.
 */
export function seedGeneratedRegistry(emulator: EcrEmulator, input: RegistryShape): GeneratedRegistry {
  const shape = resolveShape(input);
  const random = createRandom(shape.seed);
  // Referrers draw from their own stream, so the shares leave the rest of a seed's registry unchanged.
  const referrerRandom = createRandom((shape.seed ^ 0x5eed_f00d) >>> 0);
  const destinations = benchDestinations(shape.destinations, shape.sourceAccount);
  const rules: GeneratedRegistry['rules'] = [
    {
      destinations: destinations.map((d) => ({ ...d })),
      repositoryFilters: [{ filter: 'app/', filterType: 'PREFIX_MATCH' }],
    },
    {
      destinations: [{ ...(destinations[0] as ReplicationDestination) }],
      repositoryFilters: [{ filter: 'svc/', filterType: 'PREFIX_MATCH' }],
    },
  ];
  const world = emulator.world;
  world.setReplicationConfiguration(shape.sourceAccount, shape.sourceRegion, { rules });
  for (const d of destinations) {
    world.registry(d.registryId, d.region);
    // Another account lets the source replicate (and the backfill act) there, as it must in AWS.
    if (d.registryId !== shape.sourceAccount) {
      const text = allowAccountsPolicy([shape.sourceAccount], CROSS_ACCOUNT_BACKFILL_ACTIONS);
      world.setRegistryPolicy(d.registryId, d.region, { text, statements: parseRegistryPolicy(text) });
    }
  }

  const mix = shape.mix === 'single-arch' ? SINGLE_ARCH_MIX : IMAGE_MIX;
  const repositories: GeneratedRepository[] = [];
  for (let r = 0; r < shape.repositories; r += 1) {
    const { name, family } = repositoryName(r, shape.allCovered);
    const coveredBy = family === 'internal' ? [] : family === 'svc' ? [0] : destinations.map((_, i) => i);
    const where = { region: shape.sourceRegion, repository: name, account: shape.sourceAccount };
    const repository: GeneratedRepository = { name, coveredBy, images: [], destinations: [] };
    const contents = new Map<number, DestinationContent>();
    const contentOf = (destination: number): DestinationContent => {
      let content = contents.get(destination);
      if (!content) {
        content = { destination, tags: new Map(), digests: new Set() };
        contents.set(destination, content);
      }
      return content;
    };

    const count = shape.imagesPerRepository;
    for (let j = 0; j < count; j += 1) {
      const format = random.weighted(mix);
      const image = build(format, `bench/${shape.seed}/${name}/${j}`);
      const tagCount = random.int(1, Math.max(1, 2 * shape.tagsPerImage - 1));
      const tags = tagNames(random, j, tagCount);
      if (j === count - 1) tags[0] = 'latest';
      const archived = j < count - 1 && random.chance(shape.archivedShare);
      const status = archived ? 'ARCHIVED' : 'ACTIVE';
      emulator.seedImage(where, image, { tags, status, pushedAt: EPOCH + j * DAY_MS });
      const referrers = buildReferrers(referrerRandom, shape, image, `bench/${shape.seed}/${name}/${j}`);
      for (const referrer of referrers) {
        emulator.seedImage(where, referrer.built, { tags: [], pushedAt: EPOCH + j * DAY_MS + 1 });
      }
      repository.images.push({
        digest: image.digest,
        mediaType: image.mediaType,
        kind: image.kind,
        format: format === 'oci-bare' ? 'oci' : format,
        tags,
        status,
        referrers: referrers.map((r) => r.record),
      });

      const firstDestination = coveredBy[0];
      if (firstDestination === undefined || archived) continue;
      const target = destinations[firstDestination] as ReplicationDestination;
      const destWhere = { region: target.region, repository: name, account: target.registryId };
      if (random.chance(shape.presentShare)) {
        // Pushed there by hand before replication existed: the digest, with some of its tags.
        const present = tags.slice(0, random.int(0, tags.length - 1));
        emulator.seedImage(destWhere, image, { tags: present, pushedAt: EPOCH + j * DAY_MS });
        const content = contentOf(firstDestination);
        content.digests.add(image.digest);
        for (const tag of present) content.tags.set(tag, image.digest);
        if (referrers.length > 0 && referrerRandom.chance(0.5)) {
          for (const referrer of referrers) {
            emulator.seedImage(destWhere, referrer.built, { tags: [], pushedAt: EPOCH + j * DAY_MS + 1 });
            content.digests.add(referrer.built.digest);
          }
        }
      } else if (random.chance(shape.conflictShare)) {
        // Someone else's image already holds one of the tags there.
        const other = build('docker', `bench/${shape.seed}/${name}/${j}/conflict`);
        const tag = tags[tags.length - 1] as string;
        emulator.seedImage(destWhere, other, { tags: [tag], pushedAt: EPOCH + j * DAY_MS });
        const content = contentOf(firstDestination);
        content.digests.add(other.digest);
        content.tags.set(tag, other.digest);
      }
    }
    if (random.chance(shape.untaggedShare)) {
      const image = build('docker', `bench/${shape.seed}/${name}/untagged`);
      emulator.seedImage(where, image, { tags: [], pushedAt: EPOCH + count * DAY_MS });
      repository.images.push({
        digest: image.digest,
        mediaType: image.mediaType,
        kind: image.kind,
        format: 'docker',
        tags: [],
        status: 'ACTIVE',
        referrers: [],
      });
    }
    repository.destinations = [...contents.values()];
    repositories.push(repository);
  }
  return {
    shape,
    sourceAccount: shape.sourceAccount,
    sourceRegion: shape.sourceRegion,
    destinations,
    rules,
    repositories,
  };
}
