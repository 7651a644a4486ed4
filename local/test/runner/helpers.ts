/** Hand-written definitions in the shapes CDK renders, and a local S3 for the Distributed Map shim. */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AslDefinition, AslState, Json } from '../../runner/asl.ts';

export const ACCOUNT = '123456789012';
export const fn = (name: string): string => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;

/** CDK's default LambdaInvoke retrier (docs/aws-facts.md). */
export const CDK_LAMBDA_RETRY = {
  ErrorEquals: [
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
  ],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
};

/** A payloadResponseOnly Lambda Task, as `LambdaInvoke` renders it. */
export function lambdaTask(name: string, next: string | undefined, extra: Partial<AslState> = {}): AslState {
  return {
    Type: 'Task',
    Resource: fn(name),
    Retry: [CDK_LAMBDA_RETRY],
    ...(next ? { Next: next } : { End: true }),
    ...extra,
  };
}

export interface DistributedMapOptions {
  processor: AslDefinition;
  itemReader?: Json;
  itemBatcher?: Json;
  itemSelector?: Json;
  maxConcurrency?: number;
  maxConcurrencyPath?: string;
  toleratedFailurePercentage?: number;
  toleratedFailurePercentagePath?: string;
  toleratedFailureCount?: number;
  resultWriterPrefix?: string | { path: string };
  bucket?: string;
  resultPath?: string | null;
  next?: string;
  executionType?: 'STANDARD' | 'EXPRESS';
  label?: string;
}

/** A `sfn.DistributedMap` as CDK 2.278 renders it (ResultWriterV2 with the context flag on). */
export function distributedMap(options: DistributedMapOptions): AslState {
  const bucket = options.bucket ?? 'run-bucket';
  const state: AslState = {
    Type: 'Map',
    ...(options.resultPath !== undefined ? { ResultPath: options.resultPath } : {}),
    ...(options.next ? { Next: options.next } : { End: true }),
    ...(options.itemSelector ? { ItemSelector: options.itemSelector } : {}),
    ItemProcessor: {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: options.executionType ?? 'STANDARD' },
      ...(options.processor as unknown as Record<string, Json>),
    },
    ...(options.maxConcurrency !== undefined ? { MaxConcurrency: options.maxConcurrency } : {}),
    ...(options.maxConcurrencyPath ? { MaxConcurrencyPath: options.maxConcurrencyPath } : {}),
    ...(options.itemReader ? { ItemReader: options.itemReader } : {}),
    ...(options.itemBatcher ? { ItemBatcher: options.itemBatcher } : {}),
    ...(options.toleratedFailurePercentage !== undefined
      ? { ToleratedFailurePercentage: options.toleratedFailurePercentage }
      : {}),
    ...(options.toleratedFailurePercentagePath
      ? { ToleratedFailurePercentagePath: options.toleratedFailurePercentagePath }
      : {}),
    ...(options.toleratedFailureCount !== undefined
      ? { ToleratedFailureCount: options.toleratedFailureCount }
      : {}),
    Label: options.label ?? 'Backfill',
  };
  if (options.resultWriterPrefix !== undefined) {
    const prefix = options.resultWriterPrefix;
    state.ResultWriter = {
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: {
        Bucket: bucket,
        ...(typeof prefix === 'string' ? { Prefix: prefix } : { 'Prefix.$': prefix.path }),
      },
    };
  }
  return state;
}

/** `S3JsonLItemReader` with a key path. */
export function jsonlReader(keyPath: string, bucket = 'run-bucket'): Json {
  return {
    Resource: 'arn:aws:states:::s3:getObject',
    ReaderConfig: { InputType: 'JSONL' },
    Parameters: { Bucket: bucket, 'Key.$': keyPath },
  };
}

export async function putJsonLines(s3: S3Client, bucket: string, key: string, items: Json[]): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: items.map((item) => JSON.stringify(item)).join('\n'),
    }),
  );
}

export async function getJson<T>(s3: S3Client, bucket: string, key: string): Promise<T> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse((await object.Body?.transformToString()) ?? 'null') as T;
}

/** Resolves after `ms`, for handlers that need to overlap. */
export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Tracks how many calls are in flight at once. */
export function concurrencyGauge(): { enter(): void; leave(): void; readonly max: number } {
  let current = 0;
  let max = 0;
  return {
    enter() {
      current += 1;
      max = Math.max(max, current);
    },
    leave() {
      current -= 1;
    },
    get max() {
      return max;
    },
  };
}
