// Network errors are domain errors (lib/errors.ts): each carries a kind, and the API layer turns the
// kind into an HTTP status in one place. `status` remains for callers that still map by hand.

import { DomainError, type ErrorKind } from '../lib/errors.js';

/** The HTTP status each kind has always been answered with by the engine API. */
export function statusOfKind(kind: ErrorKind): 400 | 403 | 404 | 409 | 500 | 503 {
  switch (kind) {
    case 'invalid':
      return 400;
    case 'forbidden':
      return 403;
    case 'not-found':
      return 404;
    case 'conflict':
      return 409;
    case 'unavailable':
      return 503;
    default:
      return 500;
  }
}

export class NetworkError extends DomainError {
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(kind, message, options);
    this.name = 'NetworkError';
  }

  /** For agent/containers/service.ts, which still maps network errors itself. */
  get status(): 400 | 403 | 404 | 409 | 500 | 503 {
    return statusOfKind(this.kind);
  }
}
