/**
 * A Distributed Map state, read and checked once: which of its fields the local shim implements,
 * with the meaning AWS documents for each:
 * - ItemReader: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html
 * - ItemBatcher: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html
 * - ResultWriter: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 * - Tolerated failures: https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html
 * Anything else that would change the run's behaviour is refused rather than ignored.
 */
import { asText, isJsonObject, type AslDefinition, type AslState, type JsonObject } from '../asl.ts';
import { UnsupportedDefinitionError } from '../validate.ts';

export type ItemReaderSpec =
  | {
      kind: 'getObject';
      inputType: 'JSON' | 'JSONL';
      parameters: JsonObject;
      maxItems?: number;
      maxItemsPath?: string;
    }
  | { kind: 'listObjectsV2'; parameters: JsonObject; maxItems?: number; maxItemsPath?: string };

export interface ItemBatcherSpec {
  maxItemsPerBatch?: number;
  maxItemsPerBatchPath?: string;
  maxInputBytesPerBatch?: number;
  maxInputBytesPerBatchPath?: string;
  batchInput?: JsonObject;
}

export interface DistributedMapSpec {
  stateName: string;
  /** The Map Run's label (in Map Run and child execution ARNs): `Label`, else the state name. */
  label: string;
  executionType: 'STANDARD' | 'EXPRESS';
  /** The child workflow: the ItemProcessor without its ProcessorConfig. */
  itemProcessor: AslDefinition;
  itemReader?: ItemReaderSpec;
  itemsPath?: string;
  itemSelector?: JsonObject;
  itemBatcher?: ItemBatcherSpec;
  maxConcurrency?: number;
  maxConcurrencyPath?: string;
  toleratedFailurePercentage?: number;
  toleratedFailurePercentagePath?: string;
  toleratedFailureCount?: number;
  toleratedFailureCountPath?: string;
  resultWriter?: { parameters: JsonObject };
}

const S3_GET_OBJECT = /^arn:[^:]+:states:::s3:getObject$/;
const S3_LIST_OBJECTS_V2 = /^arn:[^:]+:states:::s3:listObjectsV2$/;
const S3_PUT_OBJECT = /^arn:[^:]+:states:::s3:putObject$/;

function optionalNumber(value: unknown, field: string, stateName: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number')
    throw new UnsupportedDefinitionError(`${stateName}: ${field} must be a number`);
  return value;
}

function optionalString(value: unknown, field: string, stateName: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new UnsupportedDefinitionError(`${stateName}: ${field} must be a string`);
  return value;
}

function parseItemReader(stateName: string, reader: JsonObject): ItemReaderSpec {
  const resource = asText(reader.Resource);
  const config = isJsonObject(reader.ReaderConfig) ? reader.ReaderConfig : {};
  const parameters = isJsonObject(reader.Parameters) ? reader.Parameters : undefined;
  if (!parameters)
    throw new UnsupportedDefinitionError(`${stateName}: ItemReader needs Parameters (JSONPath)`);
  const limits = {
    ...(config.MaxItems !== undefined
      ? { maxItems: optionalNumber(config.MaxItems, 'MaxItems', stateName) }
      : {}),
    ...(config.MaxItemsPath !== undefined
      ? { maxItemsPath: optionalString(config.MaxItemsPath, 'MaxItemsPath', stateName) }
      : {}),
  };
  if (S3_LIST_OBJECTS_V2.test(resource)) return { kind: 'listObjectsV2', parameters, ...limits };
  if (!S3_GET_OBJECT.test(resource)) {
    throw new UnsupportedDefinitionError(
      `${stateName}: ItemReader resource '${resource}' cannot run locally`,
    );
  }
  const inputType = config.InputType;
  if (inputType !== 'JSON' && inputType !== 'JSONL') {
    throw new UnsupportedDefinitionError(
      `${stateName}: ItemReader InputType '${asText(inputType)}' is not supported locally (JSON and JSONL are)`,
    );
  }
  if (config.ItemsPointer !== undefined) {
    throw new UnsupportedDefinitionError(`${stateName}: ItemReader ItemsPointer is not supported locally`);
  }
  return { kind: 'getObject', inputType, parameters, ...limits };
}

function parseItemBatcher(stateName: string, batcher: JsonObject): ItemBatcherSpec {
  const spec: ItemBatcherSpec = {};
  const number = (field: string): number | undefined => optionalNumber(batcher[field], field, stateName);
  const string = (field: string): string | undefined => optionalString(batcher[field], field, stateName);
  const maxItems = number('MaxItemsPerBatch');
  const maxItemsPath = string('MaxItemsPerBatchPath');
  const maxBytes = number('MaxInputBytesPerBatch');
  const maxBytesPath = string('MaxInputBytesPerBatchPath');
  if (maxItems !== undefined) spec.maxItemsPerBatch = maxItems;
  if (maxItemsPath !== undefined) spec.maxItemsPerBatchPath = maxItemsPath;
  if (maxBytes !== undefined) spec.maxInputBytesPerBatch = maxBytes;
  if (maxBytesPath !== undefined) spec.maxInputBytesPerBatchPath = maxBytesPath;
  if (isJsonObject(batcher.BatchInput)) spec.batchInput = batcher.BatchInput;
  if (
    maxItems === undefined &&
    maxItemsPath === undefined &&
    maxBytes === undefined &&
    maxBytesPath === undefined
  ) {
    throw new UnsupportedDefinitionError(
      `${stateName}: ItemBatcher needs a MaxItemsPerBatch or MaxInputBytesPerBatch`,
    );
  }
  return spec;
}

function parseResultWriter(stateName: string, writer: JsonObject): { parameters: JsonObject } {
  const config = writer.WriterConfig;
  if (isJsonObject(config)) {
    const transformation = config.Transformation ?? 'NONE';
    const outputType = config.OutputType ?? 'JSON';
    if (transformation !== 'NONE' || outputType !== 'JSON') {
      throw new UnsupportedDefinitionError(
        `${stateName}: ResultWriter WriterConfig ${asText(transformation)}/${asText(outputType)} is not supported locally (NONE/JSON is)`,
      );
    }
  }
  if (!S3_PUT_OBJECT.test(asText(writer.Resource)) || !isJsonObject(writer.Parameters)) {
    throw new UnsupportedDefinitionError(
      `${stateName}: ResultWriter needs Resource s3:putObject and Parameters`,
    );
  }
  return { parameters: writer.Parameters };
}

export function parseDistributedMap(stateName: string, state: AslState): DistributedMapSpec {
  const processor = state.ItemProcessor as JsonObject;
  const config = processor.ProcessorConfig as JsonObject;
  const { ProcessorConfig: _config, ...definition } = processor;
  const executionType = config.ExecutionType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD';
  const spec: DistributedMapSpec = {
    stateName,
    label: typeof state.Label === 'string' ? state.Label : stateName,
    executionType,
    itemProcessor: definition as unknown as AslDefinition,
  };
  if (isJsonObject(state.ItemReader)) spec.itemReader = parseItemReader(stateName, state.ItemReader);
  if (state.Items !== undefined)
    throw new UnsupportedDefinitionError(`${stateName}: Items (JSONata) is not supported`);
  const itemsPath = optionalString(state.ItemsPath, 'ItemsPath', stateName);
  if (itemsPath !== undefined) spec.itemsPath = itemsPath;
  const selector = state.ItemSelector ?? state.Parameters;
  if (isJsonObject(selector)) spec.itemSelector = selector;
  if (isJsonObject(state.ItemBatcher)) spec.itemBatcher = parseItemBatcher(stateName, state.ItemBatcher);
  const numbers = {
    maxConcurrency: 'MaxConcurrency',
    toleratedFailurePercentage: 'ToleratedFailurePercentage',
    toleratedFailureCount: 'ToleratedFailureCount',
  } as const;
  for (const [key, field] of Object.entries(numbers) as [keyof typeof numbers, string][]) {
    const value = optionalNumber(state[field], field, stateName);
    if (value !== undefined) spec[key] = value;
  }
  const paths = {
    maxConcurrencyPath: 'MaxConcurrencyPath',
    toleratedFailurePercentagePath: 'ToleratedFailurePercentagePath',
    toleratedFailureCountPath: 'ToleratedFailureCountPath',
  } as const;
  for (const [key, field] of Object.entries(paths) as [keyof typeof paths, string][]) {
    const value = optionalString(state[field], field, stateName);
    if (value !== undefined) spec[key] = value;
  }
  if (isJsonObject(state.ResultWriter)) spec.resultWriter = parseResultWriter(stateName, state.ResultWriter);
  return spec;
}
