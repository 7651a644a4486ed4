import { mulberry32 } from '../random.ts';

/**
 * A small seeded PRNG (mulberry32) for the bench and the reliability suites: a seed always gives the
 * same registry, the same pick of tags to move, the same schedule.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One entry, picked with the given weights. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T;
  /** k distinct entries (fewer if the list is shorter), in their original order. */
  sample<T>(list: readonly T[], k: number): T[];
}

export function createRandom(seed: number): Random {
  const next = mulberry32(seed);
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    chance: (p) => next() < p,
    weighted: (entries) => {
      const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
      let roll = next() * total;
      for (const [value, weight] of entries) {
        roll -= weight;
        if (roll < 0) return value;
      }
      const last = entries[entries.length - 1];
      if (!last) throw new Error('weighted: no entries');
      return last[0];
    },
    sample: (list, k) => {
      const picked = new Set<number>();
      const want = Math.min(k, list.length);
      while (picked.size < want) picked.add(int(0, list.length - 1));
      return [...picked].sort((a, b) => a - b).map((i) => list[i] as (typeof list)[number]);
    },
  };
}
