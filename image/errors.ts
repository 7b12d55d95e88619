/** Errors the engine maps to HTTP statuses (404 / 409 / 400), like dockerd does. */
export class NoSuchImageError extends Error {
  readonly status = 404;
  constructor(readonly ref: string) {
    super(`no such image: ${ref} — try: tsswarm pull ${ref}`);
    this.name = 'NoSuchImageError';
  }
}

export class ImageConflictError extends Error {
  readonly status = 409;
  constructor(message: string) {
    super(message);
    this.name = 'ImageConflictError';
  }
}

export class InvalidImageError extends Error {
  readonly status = 400;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidImageError';
  }
}

/** A blob whose content does not hash to the digest it was announced under. */
export class DigestMismatchError extends Error {
  readonly status = 400;
  constructor(
    readonly what: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${what}: digest mismatch: expected ${expected}, got ${actual}`);
    this.name = 'DigestMismatchError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
