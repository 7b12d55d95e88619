// Loading the project for engine commands (up, down, ps, …): the same options as `config`, with
// load errors turned into one message and warnings on stderr.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComposeError, loadProject, type LoadOptions, type Project } from '../../compose-spec/index.js';
import type { GlobalOptions } from './args.js';

export class CommandError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface Loaded {
  project: Project;
  environment: Record<string, string>;
}

/** What the global options (-f, -p, --project-directory, --env-file, --profile) ask of the loader. */
export function loadOptions(global: GlobalOptions, cwd: string, env: Record<string, string | undefined>): LoadOptions {
  return {
    cwd,
    environment: env,
    files: global.files,
    projectName: global.projectName,
    projectDirectory: global.projectDirectory,
    envFiles: global.envFiles.length > 0 ? global.envFiles : undefined,
    profiles: global.profiles,
  };
}

export function loadForCommand(global: GlobalOptions, cwd = process.cwd(), env: Record<string, string | undefined> = process.env): Loaded {
  try {
    const r = loadProject(loadOptions(global, cwd, env));
    for (const w of r.warnings) process.stderr.write(`WARN ${w}\n`);
    return { project: r.project, environment: r.environment };
  } catch (e) {
    if (e instanceof ComposeError) throw new CommandError(e.message);
    throw e;
  }
}

/** Services named on a command line must exist in the project. */
export function checkServices(project: Project, names: readonly string[]): void {
  for (const s of names) if (!project.services[s]) throw new CommandError(`no such service: ${s}`);
}

/**
 * Host files holding each secret's and config's content. File-based ones are used in place; content
 * from the environment or inline (configs) is written under a per-project directory only root reads.
 */
export function contentFiles(loaded: Loaded): { secrets: Record<string, string>; configs: Record<string, string> } {
  const { project, environment } = loaded;
  const dir = join(tmpdir(), `tscompose-${process.getuid?.() ?? 0}`, project.name);
  const out = { secrets: {} as Record<string, string>, configs: {} as Record<string, string> };
  const materialise = (kind: 'secrets' | 'configs', key: string, content: string): string => {
    mkdirSync(join(dir, kind), { recursive: true, mode: 0o700 });
    const file = join(dir, kind, key);
    rmSync(file, { force: true });
    writeFileSync(file, content, { mode: 0o444 });
    chmodSync(file, 0o444);
    return file;
  };
  for (const [key, s] of Object.entries(project.secrets)) {
    if (s.file) out.secrets[key] = s.file;
    else if (s.environment !== undefined) {
      const v = environment[s.environment];
      if (v === undefined) throw new CommandError(`secret ${key}: environment variable ${s.environment} is not set`);
      out.secrets[key] = materialise('secrets', key, v);
    }
  }
  for (const [key, c] of Object.entries(project.configs)) {
    if (c.file) out.configs[key] = c.file;
    else if (c.content !== undefined) out.configs[key] = materialise('configs', key, c.content);
    else if (c.environment !== undefined) {
      const v = environment[c.environment];
      if (v === undefined) throw new CommandError(`config ${key}: environment variable ${c.environment} is not set`);
      out.configs[key] = materialise('configs', key, v);
    }
  }
  return out;
}
