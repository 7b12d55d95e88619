// Loading the project for engine commands (up, down, ps, …): the same options as `config`, with
// load errors turned into one message and warnings on stderr.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HOST, clientHost } from '../../api/daemon.js';
import { ComposeError, loadProject, type FileReference, type LoadOptions, type LoadedProject, type Project } from '../../compose-spec/index.js';
import type { GlobalOptions } from './args.js';
import { contentFileKey } from './spec.js';

export class CommandError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export type Loaded = LoadedProject;

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
 * Where a project's secret and config content lives on the host, stable across runs so `down` can
 * remove it: /run/tscompose/<project> for root, else $XDG_RUNTIME_DIR/tscompose/<project> (a tmpfs
 * owned by the user), else a per-user directory under the temp dir. A daemon other than the default
 * gets its own subdirectory, so two engines running a project of the same name never share files.
 */
export function contentDir(project: string, host: string = clientHost(), env: Record<string, string | undefined> = process.env, uid: number = process.getuid?.() ?? 0): string {
  const base = uid === 0 ? '/run/tscompose' : env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'tscompose') : join(tmpdir(), `tscompose-${uid}`);
  const engine = host === DEFAULT_HOST ? '' : `@${createHash('sha256').update(host).digest('hex').slice(0, 12)}`;
  return join(base, `${project}${engine}`);
}

/** Removes what contentFiles wrote for the project (`down`). */
export function removeContentFiles(project: string, host?: string): void {
  rmSync(contentDir(project, host), { recursive: true, force: true });
}

/**
 * Host files holding each secret's and config's content, by contentFileKey. File-based ones are
 * bind-mounted in place (read-only), so a service's uid/gid/mode cannot apply to them: warned about,
 * as docker compose does. Content from the environment or inline (configs) is written under
 * contentDir, one file per distinct uid/gid/mode asked for, mode 0444 unless the service says.
 */
export function contentFiles(loaded: Loaded, host?: string): { secrets: Record<string, string>; configs: Record<string, string> } {
  const { project, environment } = loaded;
  const dir = contentDir(project.name, host);
  const out = { secrets: {} as Record<string, string>, configs: {} as Record<string, string> };
  const asRoot = (process.getuid?.() ?? 0) === 0;
  const refs = (kind: 'secrets' | 'configs', key: string): FileReference[] => {
    const all = Object.values(project.services).flatMap((s) => s[kind].filter((r) => r.source === key));
    return all.length > 0 ? all : [{ source: key, target: '' }];
  };
  const materialise = (kind: 'secrets' | 'configs', key: string, content: string): void => {
    mkdirSync(join(dir, kind), { recursive: true, mode: 0o700 });
    for (const ref of refs(kind, key)) {
      const fk = contentFileKey(ref);
      if (out[kind][fk]) continue;
      const file = join(dir, kind, fk.replace(/[^A-Za-z0-9._-]/g, '_'));
      rmSync(file, { force: true });
      const mode = ref.mode ?? 0o444;
      writeFileSync(file, content, { mode });
      chmodSync(file, mode);
      if (asRoot && (ref.uid !== undefined || ref.gid !== undefined)) {
        const id = (v: string | undefined, what: string): number => {
          if (v === undefined) return 0;
          if (!/^\d+$/.test(v)) throw new CommandError(`${kind.slice(0, -1)} ${key}: ${what} "${v}" must be numeric`);
          return Number(v);
        };
        chownSync(file, id(ref.uid, 'uid'), id(ref.gid, 'gid'));
      }
      out[kind][fk] = file;
    }
  };
  const inPlace = (kind: 'secrets' | 'configs', key: string, file: string): void => {
    out[kind][key] = file;
    const users = Object.values(project.services).filter((s) => s[kind].some((r) => r.source === key && (r.uid !== undefined || r.gid !== undefined || r.mode !== undefined)));
    if (users.length > 0) {
      process.stderr.write(`WARN ${kind} ${key}: \`uid\`, \`gid\` and \`mode\` are not supported for file sources (bind-mounted read-only as they are), they will be ignored (services: ${users.map((s) => s.name).join(', ')})\n`);
    }
  };
  for (const [key, s] of Object.entries(project.secrets)) {
    if (s.file) inPlace('secrets', key, s.file);
    else if (s.environment !== undefined) {
      const v = environment[s.environment];
      if (v === undefined) throw new CommandError(`secret ${key}: environment variable ${s.environment} is not set`);
      materialise('secrets', key, v);
    }
  }
  for (const [key, c] of Object.entries(project.configs)) {
    if (c.file) inPlace('configs', key, c.file);
    else if (c.content !== undefined) materialise('configs', key, c.content);
    else if (c.environment !== undefined) {
      const v = environment[c.environment];
      if (v === undefined) throw new CommandError(`config ${key}: environment variable ${c.environment} is not set`);
      materialise('configs', key, v);
    }
  }
  return out;
}
