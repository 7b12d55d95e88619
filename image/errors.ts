// The image library's errors are domain errors: the API maps their kinds to statuses (404 / 409 / 400)
// in one place, like dockerd's errdefs.
import { ConflictError, InvalidArgumentError, NotFoundError } from '../lib/errors.js';

export class NoSuchImageError extends NotFoundError {
  constructor(readonly ref: string) {
    // Docker's words: its clients match "No such image" (docker-py's ImageNotFound → compose pulls).
    // Our CLI adds its "try: tsswarm pull" hint itself (cli/client.ts).
    super(`No such image: ${ref}`);
    this.name = 'NoSuchImageError';
  }
}

export class ImageConflictError extends ConflictError {
  constructor(message: string) {
    super(message);
    this.name = 'ImageConflictError';
  }
}

export class InvalidImageError extends InvalidArgumentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidImageError';
  }
}

/** A blob whose content does not hash to the digest it was announced under. */
export class DigestMismatchError extends InvalidArgumentError {
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
