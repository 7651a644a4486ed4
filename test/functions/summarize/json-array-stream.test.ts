import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonArrayElements } from '../../../functions/summarize/json-array-stream.ts';

/** The text as a byte stream cut every `size` bytes (through multi-byte characters too). */
function chunksOf(text: string, size: number): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function collect(text: string, size: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const element of jsonArrayElements(chunksOf(text, size))) out.push(element);
  return out;
}

describe('jsonArrayElements', () => {
  const elements = [
    {
      Output: JSON.stringify({ results: [{ tag: 'v1', note: 'a "quoted" ] } , value' }] }),
      Status: 'SUCCEEDED',
    },
    [1, [2, [3]], { deep: { er: [] } }],
    'a string with \\ backslash, comma, ] bracket and 日本語',
    42,
    null,
    { empty: {} },
  ];
  const text = ` \n[ ${elements.map((e) => JSON.stringify(e, null, 2)).join(' ,\n')} ]\n`;

  it.each([1, 2, 3, 7, 64, 100_000])(
    'yields every element whatever the chunk size (%i bytes)',
    async (size) => {
      expect(await collect(text, size)).toEqual(elements);
    },
  );

  it('yields nothing for an empty array', async () => {
    expect(await collect('[ ]', 1)).toEqual([]);
  });

  it('rejects what is not one JSON array', async () => {
    await expect(collect('{"a":1}', 4)).rejects.toThrow('expected a JSON array');
    await expect(collect('[1, 2', 4)).rejects.toThrow('unterminated JSON array');
    await expect(collect('[1,,2]', 4)).rejects.toThrow('empty array element');
    await expect(collect('[1] [2]', 4)).rejects.toThrow('unexpected content');
  });
});
