/**
 * ItemBatcher: groups consecutive items into batches of at most MaxItemsPerBatch items and at most
 * MaxInputBytesPerBatch bytes of child input; each child gets `{"BatchInput": …, "Items": [...]}`
 * (BatchInput only when the batcher has one).
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html
 */
import type { Json, JsonObject } from '../asl.ts';

export interface BatchLimits {
  maxItems?: number;
  maxBytes?: number;
  batchInput?: Json;
}

function childInput(items: Json[], batchInput: Json | undefined): JsonObject {
  return batchInput === undefined ? { Items: items } : { BatchInput: batchInput, Items: items };
}

function bytesOf(value: Json): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** The child inputs, in item order. An item too large for any batch still gets one of its own. */
export function batchItems(items: Json[], limits: BatchLimits): JsonObject[] {
  const maxItems = limits.maxItems !== undefined && limits.maxItems > 0 ? limits.maxItems : Infinity;
  const maxBytes = limits.maxBytes !== undefined && limits.maxBytes > 0 ? limits.maxBytes : Infinity;
  const batches: JsonObject[] = [];
  let current: Json[] = [];
  // Bytes of the child input so far, computed incrementally: the envelope, then each item + a comma.
  const envelope = bytesOf(childInput([], limits.batchInput));
  let size = envelope;
  for (const item of items) {
    const itemBytes = bytesOf(item) + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (current.length >= maxItems || size + itemBytes > maxBytes)) {
      batches.push(childInput(current, limits.batchInput));
      current = [];
      size = envelope;
    }
    size += bytesOf(item) + (current.length > 0 ? 1 : 0);
    current.push(item);
  }
  if (current.length > 0) batches.push(childInput(current, limits.batchInput));
  return batches;
}
