/**
 * ECR's error model on the wire: `{"__type": "<Code>", "message": "..."}` with a non-2xx status.
 * Client faults are 400 (ThrottlingException included), ServerException is 500.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/CommonErrors.html
 */
export class EcrError extends Error {
  override readonly name = 'EcrError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra modeled members serialized next to `__type` (e.g. InvalidLayerPartException's). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  toBody(): Record<string, unknown> {
    return { __type: this.code, message: this.message, ...this.extra };
  }
}

export const invalidParameter = (message: string): EcrError =>
  new EcrError('InvalidParameterException', message);

export const repositoryNotFound = (account: string, name: string): EcrError =>
  new EcrError(
    'RepositoryNotFoundException',
    `The repository with name '${name}' does not exist in the registry with id '${account}'`,
  );

export const throttling = (operation: string): EcrError =>
  new EcrError('ThrottlingException', `Rate exceeded for ${operation}`, 400);

export const serverError = (message = 'Internal server error (injected by the ECR emulator)'): EcrError =>
  new EcrError('ServerException', message, 500);
