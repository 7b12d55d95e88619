// The project name alone, for commands that need nothing else from the project (`ps`): loading the
// whole project costs a fresh process ~40 ms (compiling zod and the model stages, validating), most of
// what `ps` would cost. Same precedence as compose-spec/load.ts: -p, then COMPOSE_PROJECT_NAME (the OS
// environment over .env), then the files' `name:` (interpolated, the last file's wins), then the
// project directory's name. Like docker compose, -p without -f reads no file at all.
//
// Anything this does not follow exactly (include, extends from another file, !reset/!override tags,
// a non-string name, any error) answers undefined, and the caller loads the project in full, which
// gives the same name or the same error message as before. What is not done here is validating the
// rest of the model, so `ps` no longer fails on a file `up` would reject, as docker compose with -p.
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { discoverComposeFiles } from '../../compose-spec/discover.js';
import { parseDotEnv } from '../../compose-spec/env.js';
import { displayPath } from '../../compose-spec/errors.js';
import { interpolateTree, type Lookup } from '../../compose-spec/interpolate.js';
import { isValidProjectName, normaliseProjectName } from '../../compose-spec/names.js';
import { parseYaml } from '../../compose-spec/yaml.js';
import type { GlobalOptions } from './args.js';

export interface QuickName {
  name: string;
  /** What the full load would have warned about on the way to the name (unset variables, …). */
  warnings: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** .env (or --env-file) under the OS environment, as compose-spec/load.ts reads them. */
function envLookup(os: Record<string, string | undefined>, envFiles: string[] | undefined, dir: string): Lookup {
  const dotenv: Record<string, string> = {};
  for (const f of envFiles ?? [resolve(dir, '.env')]) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      if (envFiles === undefined && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    Object.assign(dotenv, parseDotEnv(text, { lookup: (n) => os[n] ?? dotenv[n] }));
  }
  return (n) => (Object.hasOwn(os, n) && os[n] !== undefined ? os[n] : Object.hasOwn(dotenv, n) ? dotenv[n] : undefined);
}

/** The project name as loadProject would derive it, or undefined when only a full load can tell. */
export function quickProjectName(global: GlobalOptions, cwd0 = process.cwd(), os: Record<string, string | undefined> = process.env): QuickName | undefined {
  try {
    return derive(global, resolve(cwd0), os);
  } catch {
    // The full load reports the problem in its own words.
    return undefined;
  }
}

function derive(global: GlobalOptions, cwd: string, os: Record<string, string | undefined>): QuickName | undefined {
  const valid = (name: string): QuickName | undefined => (isValidProjectName(name) ? { name, warnings } : undefined);
  const warnings: string[] = [];
  // Each message once, as compose-spec's Warnings keeps them.
  const warn = (m: string): void => void (warnings.includes(m) || warnings.push(m));
  if (global.projectName !== undefined && global.projectName !== '' && global.files.length === 0) return valid(global.projectName);

  const explicitDir = global.projectDirectory !== undefined ? resolve(cwd, global.projectDirectory) : undefined;
  const envFiles = global.envFiles.length > 0 ? global.envFiles.map((f) => resolve(cwd, f)) : undefined;
  let files: string[];
  if (global.files.length > 0) files = global.files.map((f) => resolve(cwd, f));
  else {
    const early = envLookup(os, envFiles, explicitDir ?? cwd);
    const composeFile = early('COMPOSE_FILE');
    if (composeFile) {
      const sep = early('COMPOSE_PATH_SEPARATOR') ?? ':';
      files = composeFile.split(sep).map((f) => f.trim()).filter((f) => f !== '').map((f) => resolve(explicitDir ?? cwd, f));
    } else {
      const found = discoverComposeFiles(explicitDir ?? cwd);
      if (!found) return undefined;
      for (const f of found.ignored) warn(`Found multiple config files with supported names; using ${displayPath(found.files[0]!, cwd)}, ignoring ${displayPath(f, cwd)}`);
      files = found.files;
    }
  }
  const projectDir = explicitDir ?? dirname(files[0]!);
  const lookup = envLookup(os, envFiles, projectDir);

  // Every file is read and interpolated even when -p or COMPOSE_PROJECT_NAME decides the name: a
  // missing or unparsable file fails as before, and unset variables are warned about as before.
  let fileName: unknown;
  let hasName = false;
  let hasVersion = false;
  for (const path of files) {
    const parsed = parseYaml(readFileSync(path, 'utf8'), displayPath(path, cwd));
    if (parsed.tags.resets.length > 0 || parsed.tags.overrides.length > 0) return undefined;
    if (!isRecord(parsed.value) || parsed.value.include !== undefined) return undefined;
    const services = parsed.value.services;
    if (isRecord(services) && Object.values(services).some((s) => isRecord(s) && isRecord(s.extends) && s.extends.file !== undefined)) return undefined;
    const r = interpolateTree(parsed.value, lookup);
    for (const n of r.unset) warn(`The "${n}" variable is not set. Defaulting to a blank string.`);
    const value = r.value as Record<string, unknown>;
    hasVersion ||= value.version !== undefined;
    if (Object.hasOwn(value, 'name')) {
      hasName = true;
      fileName = value.name;
    }
  }
  // The first of the model's own warnings, and the one real files still trigger most often.
  if (hasVersion) warn('version: the attribute `version` is obsolete, it will be ignored');
  if (hasName && fileName !== null && typeof fileName !== 'string') return undefined;
  const fromFile = typeof fileName === 'string' ? fileName : undefined;

  const explicit = global.projectName ?? lookup('COMPOSE_PROJECT_NAME') ?? (fromFile !== undefined && fromFile !== '' ? fromFile : undefined);
  if (explicit !== undefined && explicit !== '') return valid(explicit);
  const name = normaliseProjectName(basename(projectDir));
  return name === '' ? undefined : { name, warnings };
}
