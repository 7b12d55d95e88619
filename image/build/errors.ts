/** Where in a Dockerfile something went wrong; `line` is 1-based, 0 when the whole file is meant. */
export interface SourceLocation {
  file: string;
  line: number;
}

/**
 * A Dockerfile the builder cannot accept. The message reads `Dockerfile:7: COPY: <what>` so the user
 * goes straight to the line; `status` lets the engine answer 400 like dockerd does.
 */
export class DockerfileError extends Error {
  readonly status = 400;
  constructor(
    readonly loc: SourceLocation,
    readonly instruction: string | undefined,
    readonly detail: string,
  ) {
    const where = loc.line > 0 ? `${loc.file}:${loc.line}` : loc.file;
    // "COPY: COPY requires …" reads badly; the instruction is named once, up front.
    const text = instruction && detail.startsWith(`${instruction} `) ? detail.slice(instruction.length + 1) : detail;
    super(instruction ? `${where}: ${instruction}: ${text}` : `${where}: ${text}`);
    this.name = 'DockerfileError';
  }
}

/** A problem found while executing a step, e.g. a COPY source missing from the build context. */
export class BuildError extends Error {
  readonly status = 400;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BuildError';
  }
}

/**
 * Thrown by the pure helpers below this layer, which know neither file nor line; the caller that does
 * rewraps it into a DockerfileError.
 */
export class InstructionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstructionError';
  }
}
