import { invalidParameter } from './errors.ts';

/**
 * Opaque `nextToken`s. A token names the last key returned (not an offset), so a page sequence stays
 * correct while items are inserted or deleted between calls: nothing is repeated, and only items
 * inserted before the cursor are missed, as with any keyset pagination. The token is bound to the
 * listing it came from (`scope`), so reusing it elsewhere is an InvalidParameterException.
 */
interface TokenBody {
  s: string;
  k: string;
}

export function encodeToken(scope: string, lastKey: string): string {
  return Buffer.from(JSON.stringify({ s: scope, k: lastKey } satisfies TokenBody)).toString('base64url');
}

export function decodeToken(token: unknown, scope: string): string | undefined {
  if (token === undefined || token === null) return undefined;
  if (typeof token !== 'string' || token.length === 0) throw invalidToken();
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  if (
    typeof body !== 'object' ||
    body === null ||
    (body as TokenBody).s !== scope ||
    typeof (body as TokenBody).k !== 'string'
  ) {
    throw invalidToken();
  }
  return (body as TokenBody).k;
}

const invalidToken = () => invalidParameter("Invalid parameter at 'nextToken': the token is not valid");

/**
 * One page of `items` (already sorted by `key`, ascending and unique) after the key in `token`.
 * Binary search keeps a page of a 100,000-item listing cheap.
 */
export function paginate<T>(
  items: readonly T[],
  key: (item: T) => string,
  scope: string,
  token: unknown,
  limit: number,
): { page: T[]; nextToken?: string } {
  const after = decodeToken(token, scope);
  let start = 0;
  if (after !== undefined) {
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (key(items[mid] as T) <= after) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const page = items.slice(start, start + limit);
  const last = page[page.length - 1];
  if (start + limit < items.length && last !== undefined) {
    return { page, nextToken: encodeToken(scope, key(last)) };
  }
  return { page };
}
