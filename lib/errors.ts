// The one family of domain errors. Services (containers, images, networks, volumes, and later the
// swarm's control API) throw these; the API layer maps each kind to an HTTP status in exactly one
// place (agent/api/router.ts → httpStatus). Domain code never names an HTTP status.

/** What went wrong, in terms a caller can act on. */
export type ErrorKind = 'not-found' | 'conflict' | 'invalid' | 'forbidden' | 'unavailable' | 'not-modified' | 'internal';

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DomainError';
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not-found', message, options);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
    this.name = 'ConflictError';
  }
}

export class InvalidArgumentError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid', message, options);
    this.name = 'InvalidArgumentError';
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('forbidden', message, options);
    this.name = 'ForbiddenError';
  }
}

export class UnavailableError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
    this.name = 'UnavailableError';
  }
}

export const notFound = (message: string): NotFoundError => new NotFoundError(message);
export const conflict = (message: string): ConflictError => new ConflictError(message);
export const invalid = (message: string): InvalidArgumentError => new InvalidArgumentError(message);
export const forbidden = (message: string): ForbiddenError => new ForbiddenError(message);
export const unavailable = (message: string): UnavailableError => new UnavailableError(message);

/** The kind of any thrown value: a DomainError's own, otherwise internal. */
export function errorKind(err: unknown): ErrorKind {
  return err instanceof DomainError ? err.kind : 'internal';
}
