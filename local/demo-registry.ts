/**
 * The demo registry: a small but realistic company registry, as it looks the day replication is
 * switched on: everything already in it predates replication, so none of it has reached the
 * destinations yet.
 *
 * Source: account 111111111111 in ap-south-1 (Mumbai). Replication rules:
 * - `shop/` and `platform/` → ap-northeast-2 (Seoul), same account;
 * - `shop/` → eu-west-1 (Ireland), account 222222222222 (a different account).
 * `data/etl-jobs` is covered by no rule (reported NOT_COVERED, never touched).
 * Images: single-platform Docker images, multi-arch OCI indexes with buildx attestations, a Docker
 * manifest list, several tags per image, an untagged build and an immutable repository. Some are
 * signed (Notation, Cosign) and one has an SBOM: OCI 1.1 referrers, untagged, which follow their image
 * (the report counts them by artifact type). One image is
 * already in Seoul with one of its tags (pushed there by hand earlier): that tag is ALREADY_PRESENT,
 * and its other tag is put on the digest already there, without replicating it again.
 */
import { allowAccountsPolicy, CROSS_ACCOUNT_BACKFILL_ACTIONS } from './ecr-emulator/registry-policy.ts';
import type { Fixture } from './ecr-emulator/index.ts';
import { DEMO_OTHER_ACCOUNT } from './runner/defaults.ts';
import { documentedDestinationRole } from './runner/iam.ts';

/** The destination role of the demo's other account (the README's example name). */
export const DEMO_DESTINATION_ROLE_NAME = 'EcrBackfillWriter';

export const DEMO_SOURCE_REGION = 'ap-south-1';
export const DEMO_SOURCE_ACCOUNT = '111111111111';
export const DEMO_DESTINATIONS = [
  { region: 'ap-northeast-2', registryId: DEMO_SOURCE_ACCOUNT },
  { region: 'eu-west-1', registryId: DEMO_OTHER_ACCOUNT },
] as const;
export const DEMO_UNCOVERED_REPOSITORY = 'data/etl-jobs';

const day = (iso: string): string => `${iso}T09:30:00Z`;

type FixtureRepository = NonNullable<Fixture['accounts'][number]['regions'][number]['repositories']>[number];

const SHOP_API_V140 = { format: 'docker', seed: 'demo/shop-api:1.4.0', layers: 4 } as const;

/** Artifact types of the demo's referrers (as Notation, Cosign and an SPDX generator push them). */
const NOTATION_SIGNATURE = 'application/vnd.cncf.notary.signature';
const COSIGN_SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SPDX_SBOM = 'application/spdx+json';

function sourceRepositories(): FixtureRepository[] {
  return [
    {
      name: 'shop/api',
      createdAt: day('2023-02-01'),
      images: [
        { build: SHOP_API_V140, tags: ['v1.4.0', 'stable'], pushedAt: day('2024-03-12') },
        {
          build: { format: 'oci-index', seed: 'demo/shop-api:1.5.0' },
          tags: ['v1.5.0'],
          pushedAt: day('2024-06-03'),
        },
        {
          build: { format: 'oci-index', seed: 'demo/shop-api:1.5.1' },
          tags: ['v1.5.1', 'latest', 'prod'],
          pushedAt: day('2024-07-19'),
          // Signed by the release pipeline (AWS Signer through Notation).
          referrers: [{ seed: 'demo/shop-api:1.5.1/signature', artifactType: NOTATION_SIGNATURE }],
        },
        // A build nobody tagged: skipped unless the input asks for untagged images.
        { build: { format: 'docker', seed: 'demo/shop-api:ci-8731' }, tags: [], pushedAt: day('2024-07-18') },
      ],
    },
    {
      name: 'shop/web',
      createdAt: day('2023-02-01'),
      // Release tags never move; `latest` is excluded so it can.
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
      images: [
        {
          build: { format: 'docker-list', seed: 'demo/shop-web:2.0.0' },
          tags: ['v2.0.0'],
          pushedAt: day('2024-05-02'),
        },
        {
          build: { format: 'docker-list', seed: 'demo/shop-web:2.1.0' },
          tags: ['v2.1.0', 'latest'],
          pushedAt: day('2024-08-21'),
        },
      ],
    },
    {
      name: 'shop/payments-worker',
      createdAt: day('2023-09-14'),
      images: [
        {
          build: { format: 'oci', seed: 'demo/payments-worker:3.2.0', layers: 3 },
          tags: ['3.2.0', '3.2', 'latest'],
          pushedAt: day('2024-09-02'),
          // Signed, with an SBOM (compliance asks for one for anything handling payments).
          referrers: [
            { seed: 'demo/payments-worker:3.2.0/signature', artifactType: NOTATION_SIGNATURE },
            { seed: 'demo/payments-worker:3.2.0/sbom', artifactType: SPDX_SBOM },
          ],
        },
      ],
    },
    {
      name: 'platform/base/node',
      createdAt: day('2022-11-30'),
      images: [
        {
          build: { format: 'oci-index', seed: 'demo/node:20.17' },
          tags: ['20.17', '20', 'lts'],
          pushedAt: day('2024-08-27'),
        },
        {
          build: { format: 'oci-index', seed: 'demo/node:22.8' },
          tags: ['22.8', '22', 'current'],
          pushedAt: day('2024-09-04'),
          referrers: [{ seed: 'demo/node:22.8/signature', artifactType: COSIGN_SIGNATURE }],
        },
      ],
    },
    {
      name: DEMO_UNCOVERED_REPOSITORY,
      createdAt: day('2023-04-10'),
      images: [
        {
          build: { format: 'docker', seed: 'demo/etl-jobs:2024.09' },
          tags: ['2024.09', 'latest'],
          pushedAt: day('2024-09-01'),
        },
      ],
    },
  ];
}

/** The demo registry as an emulator fixture (seeded directly: it all "existed before replication"). */
export function buildDemoRegistry(): Fixture {
  const [seoul, ireland] = DEMO_DESTINATIONS;
  return {
    defaultAccount: DEMO_SOURCE_ACCOUNT,
    accounts: [
      {
        id: DEMO_SOURCE_ACCOUNT,
        regions: [
          {
            region: DEMO_SOURCE_REGION,
            replicationConfiguration: {
              rules: [
                {
                  destinations: [{ ...seoul }],
                  repositoryFilters: [
                    { filter: 'shop/', filterType: 'PREFIX_MATCH' },
                    { filter: 'platform/', filterType: 'PREFIX_MATCH' },
                  ],
                },
                {
                  destinations: [{ ...ireland }],
                  repositoryFilters: [{ filter: 'shop/', filterType: 'PREFIX_MATCH' }],
                },
              ],
            },
            repositories: sourceRepositories(),
          },
          {
            // Someone pushed shop/api v1.4.0 to Seoul by hand before replication existed.
            region: seoul.region,
            repositories: [
              {
                name: 'shop/api',
                createdAt: day('2024-03-12'),
                images: [{ build: SHOP_API_V140, tags: ['v1.4.0'], pushedAt: day('2024-03-13') }],
              },
            ],
          },
        ],
      },
      {
        id: ireland.registryId,
        // The role the README tells users to create (docs/iam/destination-role.json, trusting the
        // source account); the local deployment reaches Ireland directly, a roleArn input uses this.
        roles: [documentedDestinationRole(DEMO_DESTINATION_ROLE_NAME, DEMO_SOURCE_ACCOUNT)],
        regions: [
          {
            region: ireland.region,
            // Lets the source account replicate (and the demo's backfill act) here.
            registryPolicy: allowAccountsPolicy([DEMO_SOURCE_ACCOUNT], CROSS_ACCOUNT_BACKFILL_ACTIONS),
            repositories: [],
          },
        ],
      },
    ],
  };
}
