// Errors the driver raises. exitCode is what a CLI should exit with (127/126 for exec failures, as runc).

export class RuntimeError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly code?: 'ENOENT' | 'EEXIST' | 'ESTATE',
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

export function notFound(id: string): RuntimeError {
  return new RuntimeError(`container ${JSON.stringify(id)} does not exist`, 1, 'ENOENT');
}
