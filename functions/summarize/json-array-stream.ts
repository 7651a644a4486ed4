/**
 * Streams the elements of a top-level JSON array (`[ {...}, {...} ]`) without holding the whole
 * document: ResultWriter files hold one record per child execution and can run to many megabytes.
 * Each element is parsed on its own with JSON.parse, so only one record is in memory at a time.
 */
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export class JsonArrayStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonArrayStreamError';
  }
}

export async function* jsonArrayElements(
  source: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<unknown> {
  let started = false;
  let finished = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let inElement = false;
  let parts: Buffer[] = [];

  for await (const raw of source) {
    const chunk =
      typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let segmentStart = inElement ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        continue;
      }
      if (isWhitespace(c)) continue;
      if (finished) throw new JsonArrayStreamError('unexpected content after the closing ]');
      if (!started) {
        if (c !== OPEN_BRACKET) throw new JsonArrayStreamError('expected a JSON array');
        started = true;
        depth = 1;
        continue;
      }
      if (depth === 1 && (c === COMMA || c === CLOSE_BRACKET)) {
        if (segmentStart >= 0) parts.push(chunk.subarray(segmentStart, i));
        if (parts.length > 0) {
          const text = Buffer.concat(parts).toString('utf8');
          parts = [];
          yield JSON.parse(text) as unknown;
        } else if (c === COMMA) {
          throw new JsonArrayStreamError('empty array element');
        }
        segmentStart = -1;
        inElement = false;
        if (c === CLOSE_BRACKET) {
          depth = 0;
          finished = true;
        }
        continue;
      }
      if (depth === 1 && !inElement) {
        inElement = true;
        segmentStart = i;
      }
      if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth += 1;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth -= 1;
    }
    if (inElement && segmentStart >= 0) parts.push(Buffer.from(chunk.subarray(segmentStart)));
  }
  if (!finished)
    throw new JsonArrayStreamError(started ? 'unterminated JSON array' : 'expected a JSON array');
}
