/** Parses `7d`, `12h`, `30m`, `90s` or combinations such as `1d12h` into milliseconds. */
const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };

export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  const pattern = /(\d+(?:\.\d+)?)([wdhms])/g;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    if (match.index !== consumed) break;
    const unit = UNIT_MS[match[2] ?? ''];
    if (unit === undefined) break;
    total += Number(match[1]) * unit;
    consumed += match[0].length;
  }
  if (trimmed.length === 0 || consumed !== trimmed.length || total <= 0) {
    throw new Error(`invalid duration "${text}": use a number and a unit, e.g. 7d, 12h, 30m, 1d12h`);
  }
  return total;
}
