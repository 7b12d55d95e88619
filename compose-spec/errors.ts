// Errors and warnings of the loader. Every problem names where it comes from (file, key path, and the
// line when known) so that a user can find it without guessing which of several files was meant.

export type PathSegment = string | number;

/** A key path as the user sees it: services.web.ports[1]. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export interface Problem {
  /** File as shown to the user (relative to the working directory when inside it). */
  file?: string;
  path?: string;
  line?: number;
  column?: number;
  message: string;
}

export function formatProblem(p: Problem): string {
  let where = '';
  if (p.file !== undefined) {
    where = p.file;
    // Only syntax errors have no key path; for them the position is the only pointer there is.
    if (p.path === undefined && p.line !== undefined) where += `:${p.line}:${p.column ?? 1}`;
    where += ': ';
  }
  if (p.path !== undefined && p.path !== '') where += `${p.path}: `;
  return where + p.message;
}

/** One or more problems that make a Compose project unusable. Nothing must be created after one. */
export class ComposeError extends Error {
  readonly problems: readonly Problem[];
  constructor(problems: Problem | readonly Problem[]) {
    const list = Array.isArray(problems) ? (problems as readonly Problem[]) : [problems as Problem];
    super(list.map(formatProblem).join('\n'));
    this.name = 'ComposeError';
    this.problems = list;
  }
}

/** Non-fatal findings (unsupported keys, unset variables). Collected, then printed by the CLI. */
export class Warnings {
  private readonly seen = new Set<string>();
  readonly list: string[] = [];
  add(message: string): void {
    if (this.seen.has(message)) return;
    this.seen.add(message);
    this.list.push(message);
  }
}

/** Shows a path relative to cwd when it is inside it, as docker compose does in its messages. */
export function displayPath(abs: string, cwd: string): string {
  if (abs.startsWith(cwd + '/')) return abs.slice(cwd.length + 1);
  return abs;
}
