/**
 * The temp tags of the strategy under test, which the source-tag observer ignores (they are the
 * strategy's own, not users' tags) and which the bench counts as left behind after a run.
 */
import { DEFAULT_TEMP_TAG_PREFIX } from 'ecr-backfill/core';
import { isTempTag } from 'ecr-backfill/core';
import { CLASSIC_TEMP_TAG_SUFFIX } from './classic-trick.ts';

export type OwnTempTags = 'classic' | 'run';

export function ownTempTag(kind: OwnTempTags): (tag: string) => boolean {
  return kind === 'classic'
    ? (tag) => tag.endsWith(CLASSIC_TEMP_TAG_SUFFIX)
    : (tag) => isTempTag(tag, DEFAULT_TEMP_TAG_PREFIX);
}
