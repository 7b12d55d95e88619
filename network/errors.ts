// Network errors are domain errors (lib/errors.ts): each carries a kind, and the API layer turns the
// kind into an HTTP status in one place (agent/api/router.ts).

import { DomainError, type ErrorKind } from '../lib/errors.js';

export class NetworkError extends DomainError {
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(kind, message, options);
    this.name = 'NetworkError';
  }
}
