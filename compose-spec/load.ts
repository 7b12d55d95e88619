// The loading pipeline, the only part that touches the file system and the process environment:
// discover → read → interpolate → validate → resolve paths → extends/include → merge (+ !reset,
// !override) → profiles → normalise. Every failure is a ComposeError naming file and key path, and
// happens before anything could be created.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { ComposeError, displayPath, formatPath, Warnings, type PathSegment, type Problem } from './errors.js';
import { parseYaml, positionOf, type Position } from './yaml.js';
import { interpolateTree, PathError, type Lookup } from './interpolate.js';
import { validateComposeFile } from './schema.js';
import { applyTags, mergeProjects, withoutResets } from './merge.js';
import { resolveFilePaths } from './paths.js';
import { resolveExtends, ExtendsError, type SourceFile } from './extends.js';
import { parseDotEnv, DotEnvError } from './env.js';
import { discoverComposeFiles } from './discover.js';
import { isValidProjectName, normaliseProjectName } from './names.js';
import { normalise, ModelError } from './normalise.js';
import type { Project } from './model.js';
import { isRecord, setOwn, type Dict } from './util.js';

export interface LoadOptions {
  /** Default: process.cwd(). */
  cwd?: string;
  /** -f, in order. Default: COMPOSE_FILE, then discovery. */
  files?: string[];
  /** --project-directory. Default: the directory of the first file. */
  projectDirectory?: string;
  /** -p. Default: COMPOSE_PROJECT_NAME, then `name:`, then the project directory's name. */
  projectName?: string;
  /** --env-file, in order. Default: .env in the project directory, when it exists. */
  envFiles?: string[];
  /** --profile. Default: COMPOSE_PROFILES. */
  profiles?: string[];
  /** Services named on the command line (enabled with their dependencies, others dropped). */
  services?: string[];
  /** The OS environment. Default: process.env. */
  environment?: Record<string, string | undefined>;
  home?: string;
}

export interface LoadResult {
  project: Project;
  warnings: string[];
  /** The environment interpolation used (OS over .env), for commands that need it later. */
  environment: Record<string, string>;
}

/** A loaded project with the environment it was interpolated with, as engine commands use it. */
export type LoadedProject = Pick<LoadResult, 'project' | 'environment'>;

interface FileRecord {
  path: string;
  display: string;
  positions: Map<string, Position>;
}

interface Session {
  cwd: string;
  home: string;
  warnings: Warnings;
  /** Every file read, for attributing later errors to a position. */
  records: FileRecord[];
  cache: Map<string, SourceFile>;
}

function readText(path: string, s: Session, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new ComposeError({ file: displayPath(path, s.cwd), message: `cannot read ${what}: ${reason}` });
  }
}

function problemsAt(file: FileRecord, list: Array<{ path: PathSegment[]; message: string }>): Problem[] {
  return list.map((p) => {
    const pos = positionOf(file.positions, p.path);
    return { file: file.display, path: formatPath(p.path), line: pos?.line, column: pos?.column, message: p.message };
  });
}

/**
 * Reads one file up to the point where it can be merged: parsed, interpolated, validated, relative
 * paths resolved against baseDir. Tags are kept for merging.
 */
function readComposeFile(path: string, baseDir: string, lookup: Lookup, s: Session): SourceFile {
  const cached = s.cache.get(`${path}\0${baseDir}`);
  if (cached) return cached;
  const display = displayPath(path, s.cwd);
  const text = readText(path, s, 'compose file');
  const parsed = parseYaml(text, display);
  const record: FileRecord = { path, display, positions: parsed.positions };
  s.records.push(record);
  let value: unknown;
  try {
    const r = interpolateTree(withoutResets(parsed.value, parsed.tags), lookup);
    for (const name of r.unset) s.warnings.add(`The "${name}" variable is not set. Defaulting to a blank string.`);
    value = r.value;
  } catch (e) {
    if (e instanceof PathError) throw new ComposeError(problemsAt(record, [{ path: e.path, message: e.message }]));
    throw e;
  }
  const problems = validateComposeFile(value);
  if (problems.length > 0) throw new ComposeError(problemsAt(record, problems));
  const file: SourceFile = { path, value: resolveFilePaths(value as Dict, { baseDir, home: s.home }), tags: parsed.tags };
  s.cache.set(`${path}\0${baseDir}`, file);
  return file;
}

/** A file with its services' `extends` resolved and its `include`s merged in: ready to merge. */
function expandFile(file: SourceFile, lookup: Lookup, env: EnvSources, s: Session, depth: number): Dict {
  let services: Dict;
  try {
    // A file named by `extends.file` is relative to the file that names it and has its own base.
    services = resolveExtends(file, (p) => readComposeFile(p, dirname(p), lookup, s));
  } catch (e) {
    if (e instanceof ExtendsError) {
      const rec = s.records.find((r) => r.path === e.file);
      const path: PathSegment[] = ['services', e.service, 'extends'];
      throw new ComposeError(rec ? problemsAt(rec, [{ path, message: e.message }]) : { file: displayPath(e.file, s.cwd), path: formatPath(path), message: e.message });
    }
    throw e;
  }
  const out: Dict = { ...file.value };
  if (isRecord(out.services)) out.services = services;
  const includes = out.include;
  delete out.include;
  if (!Array.isArray(includes) || includes.length === 0) return out;
  if (depth > 20) throw new ComposeError({ file: displayPath(file.path, s.cwd), path: 'include', message: 'includes nested too deeply (a cycle?)' });
  const rec = s.records.find((r) => r.path === file.path)!;
  let imported: Dict = {};
  includes.forEach((inc, i) => {
    const d: Dict = typeof inc === 'string' ? { path: inc } : (inc as Dict);
    const dir = dirname(file.path);
    const paths = (Array.isArray(d.path) ? d.path : [d.path]).map((p) => resolve(dir, String(p)));
    const projectDir = d.project_directory !== undefined ? resolve(dir, String(d.project_directory)) : dirname(paths[0]!);
    const envFiles = d.env_file === undefined ? undefined : (Array.isArray(d.env_file) ? d.env_file : [d.env_file]).map((p) => resolve(dir, String(p)));
    let incEnv: EnvSources;
    try {
      incEnv = loadEnv(env.os, envFiles, projectDir, s, env);
    } catch (e) {
      if (e instanceof ComposeError) throw new ComposeError(problemsAt(rec, [{ path: ['include', i], message: e.message }]));
      throw e;
    }
    let merged: Dict = {};
    for (const p of paths) {
      const f = readComposeFile(p, projectDir, incEnv.lookup, s);
      merged = mergeProjects(merged, expandFile(f, incEnv.lookup, incEnv, s, depth + 1));
      applyTags(merged, f.value, f.tags);
    }
    imported = mergeProjects(imported, merged);
  });
  // Included resources may not be redefined by the including file: which one would win is unclear.
  const conflicts: Array<{ path: PathSegment[]; message: string }> = [];
  for (const kind of ['services', 'networks', 'volumes', 'secrets', 'configs']) {
    const own = isRecord(out[kind]) ? (out[kind] as Dict) : {};
    const inc = isRecord(imported[kind]) ? (imported[kind] as Dict) : {};
    for (const k of Object.keys(own)) if (Object.hasOwn(inc, k)) conflicts.push({ path: [kind, k], message: `conflicts with the definition imported by include` });
  }
  if (conflicts.length > 0) throw new ComposeError(problemsAt(rec, conflicts));
  const result = mergeProjects(imported, out);
  return result;
}

interface EnvSources {
  os: Record<string, string | undefined>;
  /** Variables from .env/--env-file files (before the OS environment is laid over them). */
  dotenv: Record<string, string>;
  lookup: Lookup;
}

function loadEnv(os: Record<string, string | undefined>, envFiles: string[] | undefined, projectDir: string, s: Session, parent?: EnvSources): EnvSources {
  const dotenv: Record<string, string> = { ...(parent?.dotenv ?? {}) };
  const explicit = envFiles !== undefined;
  const files = envFiles ?? [resolve(projectDir, '.env')];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      if (!explicit && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ComposeError({ file: displayPath(f, s.cwd), message: `cannot read env file: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}` });
    }
    try {
      Object.assign(dotenv, parseDotEnv(text, { lookup: (n) => os[n] ?? dotenv[n] }));
    } catch (e) {
      if (e instanceof DotEnvError) throw new ComposeError({ file: displayPath(f, s.cwd), line: e.line, column: 1, message: e.message });
      throw e;
    }
  }
  // The OS environment wins over .env files.
  const lookup: Lookup = (n) => (Object.hasOwn(os, n) && os[n] !== undefined ? os[n] : Object.hasOwn(dotenv, n) ? dotenv[n] : undefined);
  return { os, dotenv, lookup };
}

function splitList(v: string | undefined, sep: string): string[] {
  return (v ?? '').split(sep).map((x) => x.trim()).filter((x) => x !== '');
}

export function loadProject(opts: LoadOptions = {}): LoadResult {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const os = opts.environment ?? process.env;
  const s: Session = { cwd, home: opts.home ?? os.HOME ?? homedir(), warnings: new Warnings(), records: [], cache: new Map() };
  const explicitDir = opts.projectDirectory !== undefined ? resolve(cwd, opts.projectDirectory) : undefined;
  const envFiles = opts.envFiles?.map((f) => resolve(cwd, f));

  // COMPOSE_FILE may come from the OS or from the .env of the working (or project) directory.
  let files: string[];
  if (opts.files && opts.files.length > 0) files = opts.files.map((f) => resolve(cwd, f));
  else {
    const early = loadEnv(os, envFiles, explicitDir ?? cwd, s);
    const composeFile = early.lookup('COMPOSE_FILE');
    if (composeFile) files = splitList(composeFile, early.lookup('COMPOSE_PATH_SEPARATOR') ?? ':').map((f) => resolve(explicitDir ?? cwd, f));
    else {
      const found = discoverComposeFiles(explicitDir ?? cwd);
      if (!found) throw new ComposeError({ message: `no configuration file provided: not found (looked for compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml in ${explicitDir ?? cwd} and its parents)` });
      for (const f of found.ignored) s.warnings.add(`Found multiple config files with supported names; using ${displayPath(found.files[0]!, cwd)}, ignoring ${displayPath(f, cwd)}`);
      files = found.files;
    }
  }
  const projectDir = explicitDir ?? dirname(files[0]!);
  const env = loadEnv(os, envFiles, projectDir, s);

  let merged: Dict = {};
  for (const path of files) {
    const file = readComposeFile(path, projectDir, env.lookup, s);
    merged = mergeProjects(merged, expandFile(file, env.lookup, env, s, 0));
    applyTags(merged, file.value, file.tags);
  }

  let name: string;
  const explicitName = opts.projectName ?? env.lookup('COMPOSE_PROJECT_NAME') ?? (typeof merged.name === 'string' && merged.name !== '' ? merged.name : undefined);
  if (explicitName !== undefined && explicitName !== '') {
    if (!isValidProjectName(explicitName)) {
      throw new ComposeError({
        message: `invalid project name '${explicitName}': must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`,
      });
    }
    name = explicitName;
  } else {
    name = normaliseProjectName(basename(projectDir));
    if (name === '') throw new ComposeError({ message: `cannot derive a project name from directory '${projectDir}': use -p or name:` });
  }

  const profiles = opts.profiles && opts.profiles.length > 0 ? opts.profiles : splitList(env.lookup('COMPOSE_PROFILES'), ',');
  try {
    const result = normalise(merged, {
      projectName: name,
      projectDir,
      composeFiles: files,
      lookup: env.lookup,
      readFile: (p) => {
        try {
          return readFileSync(p, 'utf8');
        } catch {
          return undefined;
        }
      },
      profiles,
      targets: opts.services,
    });
    for (const w of result.warnings) s.warnings.add(w);
    const environment: Record<string, string> = { ...env.dotenv };
    for (const [k, v] of Object.entries(os)) if (v !== undefined) setOwn(environment, k, v);
    return { project: result.project, warnings: s.warnings.list, environment };
  } catch (e) {
    if (e instanceof ModelError) throw new ComposeError(e.problems.map((p) => attribute(p.path, p.message, s, files)));
    throw e;
  }
}

// Errors found after merging belong to the last of the project's files that wrote that key path.
function attribute(path: PathSegment[], message: string, s: Session, files: string[]): Problem {
  let best: { rec: FileRecord; depth: number } | undefined;
  for (const rec of s.records) {
    if (!files.includes(rec.path)) continue;
    for (let n = path.length; n > 0; n--) {
      if (rec.positions.has(formatPath(path.slice(0, n)))) {
        if (!best || n >= best.depth) best = { rec, depth: n };
        break;
      }
    }
  }
  const rec = best?.rec ?? s.records.find((r) => r.path === files[0]);
  const pos = rec ? positionOf(rec.positions, path) : undefined;
  return { file: rec?.display, path: formatPath(path), line: pos?.line, column: pos?.column, message };
}
