/**
 * Validates awsJson1_1 request and response bodies against ecr-model.json (build-model.ts): member
 * types, required members, no member the model lacks, list/string/blob lengths, numeric ranges,
 * patterns (matched whole) and enums. Returns every violation as `path: problem`.
 */
import { readFileSync } from 'node:fs';
import type { EcrModel, MemberSpec } from './model-types.ts';

export function loadEcrModel(file = new URL('../ecr-model.json', import.meta.url)): EcrModel {
  return JSON.parse(readFileSync(file, 'utf8')) as EcrModel;
}

/**
 * Errors the awsJson1_1 protocol itself returns for any service, which no service model lists.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/CommonErrors.html
 */
export const COMMON_ERRORS: readonly string[] = [
  'ThrottlingException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'IncompleteSignature',
  'InvalidAction',
  'UnknownOperationException',
  'ServiceUnavailable',
  'InternalFailure',
  'SerializationException',
];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export class ModelValidator {
  private readonly patterns = new Map<string, RegExp>();

  constructor(readonly model: EcrModel) {}

  /** Violations of an operation's request body. */
  request(operation: string, body: unknown): string[] {
    const op = this.model.operations[operation];
    if (!op) return [`${operation}: not an operation of the model`];
    return this.check(body, { ref: op.input }, `${operation} request`);
  }

  /** Violations of a response: a modelled output for 200, else a modelled (or common) error. */
  response(operation: string, status: number, body: unknown): string[] {
    const op = this.model.operations[operation];
    if (!op) return [`${operation}: not an operation of the model`];
    if (status === 200) return this.check(body, { ref: op.output }, `${operation} response`);
    if (!isRecord(body) || typeof body.__type !== 'string')
      return [`${operation} error ${status}: no __type`];
    const name = body.__type.split('#').pop() ?? '';
    const where = `${operation} error ${name}`;
    if (COMMON_ERRORS.includes(name)) return typeof body.message === 'string' ? [] : [`${where}: no message`];
    const shape = this.model.errors[name];
    if (!shape) return [`${where}: not an error of the model`];
    const rest = Object.fromEntries(Object.entries(body).filter(([key]) => key !== '__type'));
    // awsJson1_1 errors may spell the message `Message`.
    if ('Message' in rest && !('message' in rest)) {
      rest.message = rest.Message;
      delete rest.Message;
    }
    return this.check(rest, { ref: shape }, where);
  }

  private regex(pattern: string): RegExp {
    let regex = this.patterns.get(pattern);
    if (!regex) {
      regex = new RegExp(`^(?:${pattern})$`, 'u');
      this.patterns.set(pattern, regex);
    }
    return regex;
  }

  private check(value: unknown, spec: MemberSpec, path: string): string[] {
    if ('ref' in spec) {
      const shape = this.model.shapes[spec.ref];
      if (!shape) return [`${path}: the model has no shape ${spec.ref}`];
      if (shape.type === 'structure' || shape.type === 'union') {
        if (!isRecord(value)) return [`${path}: expected an object (${spec.ref})`];
        const problems: string[] = [];
        for (const [key, member] of Object.entries(value)) {
          const memberSpec = shape.members[key];
          if (!memberSpec) problems.push(`${path}.${key}: not a member of ${spec.ref}`);
          else if (member !== null) problems.push(...this.check(member, memberSpec, `${path}.${key}`));
        }
        if (shape.type === 'structure') {
          for (const key of shape.required) {
            if (value[key] === undefined || value[key] === null)
              problems.push(`${path}.${key}: required by ${spec.ref}`);
          }
        }
        return problems;
      }
      return this.check(value, shape, path);
    }
    const range = (n: number, what: string): string[] => [
      ...(spec.min !== undefined && n < spec.min ? [`${path}: ${what} ${n} < min ${spec.min}`] : []),
      ...(spec.max !== undefined && n > spec.max ? [`${path}: ${what} ${n} > max ${spec.max}`] : []),
    ];
    switch (spec.type) {
      case 'string': {
        if (typeof value !== 'string') return [`${path}: expected a string`];
        const problems = range([...value].length, 'length');
        if (spec.pattern !== undefined && !this.regex(spec.pattern).test(value))
          problems.push(`${path}: ${JSON.stringify(value)} does not match ${spec.pattern}`);
        if (spec.enum && !spec.enum.includes(value))
          problems.push(`${path}: ${JSON.stringify(value)} is not one of ${spec.enum.join(', ')}`);
        return problems;
      }
      case 'number':
        return typeof value === 'number' && Number.isFinite(value)
          ? range(value, 'value')
          : [`${path}: expected a number`];
      case 'boolean':
        return typeof value === 'boolean' ? [] : [`${path}: expected a boolean`];
      // awsJson1_1 sends timestamps as epoch seconds.
      case 'timestamp':
        return typeof value === 'number' && Number.isFinite(value) ? [] : [`${path}: expected epoch seconds`];
      case 'blob':
        return typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value)
          ? range(Buffer.from(value, 'base64').length, 'bytes')
          : [`${path}: expected base64`];
      case 'document':
        return [];
      case 'list': {
        if (!Array.isArray(value)) return [`${path}: expected a list`];
        return [
          ...range(value.length, 'length'),
          ...value.flatMap((item, index) => this.check(item, spec.member, `${path}[${index}]`)),
        ];
      }
      case 'map': {
        if (!isRecord(value)) return [`${path}: expected a map`];
        return [
          ...range(Object.keys(value).length, 'entries'),
          ...Object.entries(value).flatMap(([key, item]) => [
            ...this.check(key, spec.key, `${path} key`),
            ...this.check(item, spec.value, `${path}.${key}`),
          ]),
        ];
      }
    }
  }
}
