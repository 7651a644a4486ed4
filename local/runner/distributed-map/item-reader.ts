/**
 * ItemReader over the local S3: a JSON array or JSON Lines object (`s3:getObject`), or the objects
 * under a prefix (`s3:listObjectsV2`, every page). Any failure is `States.ItemReaderFailed`.
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Json, JsonObject } from '../asl.ts';
import { MAP_ERRORS, MapRunError } from './errors.ts';
import type { ItemReaderSpec } from './spec.ts';

function readerError(message: string): MapRunError {
  return new MapRunError(MAP_ERRORS.ItemReaderFailed, message);
}

function parseJsonLines(text: string, where: string): Json[] {
  const items: Json[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      items.push(JSON.parse(line) as Json);
    } catch {
      throw readerError(`${where}: line ${index + 1} is not valid JSON`);
    }
  }
  return items;
}

async function getObjectItems(
  s3: S3Client,
  inputType: 'JSON' | 'JSONL',
  bucket: string,
  key: string,
): Promise<Json[]> {
  const where = `s3://${bucket}/${key}`;
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = (await object.Body?.transformToString('utf-8')) ?? '';
  } catch (error) {
    throw readerError(
      `${where}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
  }
  if (inputType === 'JSONL') return parseJsonLines(text, where);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw readerError(`${where} is not valid JSON`);
  }
  if (!Array.isArray(parsed)) throw readerError(`${where} does not hold a JSON array`);
  return parsed as Json[];
}

async function listObjectItems(s3: S3Client, bucket: string, prefix: string | undefined): Promise<Json[]> {
  const items: Json[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        items.push({
          Etag: object.ETag ?? '',
          Key: object.Key ?? '',
          LastModified: object.LastModified ? Math.floor(object.LastModified.getTime() / 1000) : 0,
          Size: object.Size ?? 0,
          StorageClass: object.StorageClass ?? 'STANDARD',
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    throw readerError(
      `s3://${bucket}/${prefix ?? ''}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return items;
}

/** Reads every item; `parameters` are the reader's Parameters already evaluated against the input. */
export async function readItems(
  s3: S3Client,
  reader: ItemReaderSpec,
  parameters: JsonObject,
  maxItems: number | undefined,
): Promise<Json[]> {
  const bucket = parameters.Bucket;
  if (typeof bucket !== 'string' || bucket === '')
    throw readerError('ItemReader Parameters.Bucket is missing');
  let items: Json[];
  if (reader.kind === 'listObjectsV2') {
    const prefix = typeof parameters.Prefix === 'string' ? parameters.Prefix : undefined;
    items = await listObjectItems(s3, bucket, prefix);
  } else {
    const key = parameters.Key;
    if (typeof key !== 'string' || key === '') throw readerError('ItemReader Parameters.Key is missing');
    items = await getObjectItems(s3, reader.inputType, bucket, key);
  }
  return maxItems !== undefined && maxItems > 0 ? items.slice(0, maxItems) : items;
}
