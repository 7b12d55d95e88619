// Loading the compose files of `stack deploy -c FILE…` with tscompose's loader (multiple files merged,
// interpolation from the environment and .env), the stack's name standing for the project's, so every
// resource the model names is already STACK_key.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComposeError, isValidProjectName, loadProject, type Project } from '../../compose-spec/index.js';

export interface LoadedStack {
  project: Project;
  /** The environment interpolation used: OS over .env; secrets and configs read `environment:` from it. */
  environment: Record<string, string>;
  /** The loader's warnings (unset variables, ignored keys). */
  warnings: string[];
}

export class StackLoadError extends Error {
  override name = 'StackLoadError';
}

/**
 * `-c -` reads the file from stdin (readStdin); it is loaded from a temporary copy with the current
 * directory as the project directory, so relative paths in it mean what they would in a file here.
 */
export function loadStack(
  files: readonly string[],
  stack: string,
  cwd: string,
  environment: Record<string, string | undefined>,
  readStdin: () => string = () => readFileSync(0, 'utf8'),
): LoadedStack {
  if (files.length === 0) throw new StackLoadError('Please specify a Compose file (with --compose-file).');
  if (!isValidProjectName(stack))
    throw new StackLoadError(`invalid stack name "${stack}": use lowercase letters, digits, '_' and '-', starting with a letter or digit`);
  let tmp: string | undefined;
  const paths = files.map((f) => {
    if (f !== '-') return f;
    tmp ??= mkdtempSync(join(tmpdir(), 'tsswarm-stack-'));
    const path = join(tmp, 'stdin.yaml');
    writeFileSync(path, readStdin());
    return path;
  });
  try {
    const r = loadProject({ cwd, files: paths, projectName: stack, environment, projectDirectory: tmp ? cwd : undefined });
    return { project: r.project, environment: r.environment, warnings: r.warnings };
  } catch (e) {
    if (e instanceof ComposeError) throw new StackLoadError(e.message);
    throw e;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
