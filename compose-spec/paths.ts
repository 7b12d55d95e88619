// Relative paths in a file are resolved once, right after it is read, against the directory that
// governs it (the project directory for -f files, the file's own for extends/include targets), so
// that later merging cannot make a path mean something else. Pure: home directory is passed in.
import { isAbsolute, resolve } from 'node:path';
import { clone, isRecord, setOwn, type Dict } from './util.js';

export interface PathContext {
  baseDir: string;
  home: string;
}

export function resolvePath(p: string, ctx: PathContext): string {
  if (p === '~' || p.startsWith('~/')) return resolve(ctx.home, p.slice(2));
  return isAbsolute(p) ? p : resolve(ctx.baseDir, p);
}

/** Build contexts may be URLs (git, http) rather than directories. */
export function isRemoteContext(p: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || p.startsWith('git@') || /^github\.com\//.test(p);
}

const LOCAL_REF = /^(\.{1,2}(\/|$)|~(\/|$))/;

function resolveContext(p: string, ctx: PathContext): string {
  return isRemoteContext(p) ? p : resolvePath(p, ctx);
}

function resolveVolumeShort(spec: string, ctx: PathContext): string {
  const idx = spec.indexOf(':');
  if (idx <= 0) return spec;
  const src = spec.slice(0, idx);
  if (!LOCAL_REF.test(src)) return spec;
  return resolvePath(src, ctx) + spec.slice(idx);
}

function resolveFileList(v: unknown, ctx: PathContext): unknown {
  if (typeof v === 'string') return resolvePath(v, ctx);
  if (!Array.isArray(v)) return v;
  return v.map((x) => {
    if (typeof x === 'string') return resolvePath(x, ctx);
    if (isRecord(x) && typeof x.path === 'string') return { ...x, path: resolvePath(x.path, ctx) };
    return x;
  });
}

export function resolveServicePaths(svc: Dict, ctx: PathContext): Dict {
  const out = clone(svc);
  if (typeof out.build === 'string') out.build = resolveContext(out.build, ctx);
  else if (isRecord(out.build)) {
    const b = out.build;
    b.context = resolveContext(typeof b.context === 'string' ? b.context : '.', ctx);
    if (isRecord(b.additional_contexts)) {
      for (const [k, v] of Object.entries(b.additional_contexts)) {
        if (typeof v === 'string' && LOCAL_REF.test(v)) b.additional_contexts[k] = resolvePath(v, ctx);
      }
    }
  }
  if (out.env_file !== undefined) out.env_file = resolveFileList(out.env_file, ctx);
  if (out.label_file !== undefined) out.label_file = resolveFileList(out.label_file, ctx);
  if (Array.isArray(out.volumes)) {
    out.volumes = out.volumes.map((v) => {
      if (typeof v === 'string') return resolveVolumeShort(v, ctx);
      if (isRecord(v) && v.type === 'bind' && typeof v.source === 'string') return { ...v, source: resolvePath(v.source, ctx) };
      return v;
    });
  }
  return out;
}

/** Resolves the paths of every service and of file-based secrets and configs. */
export function resolveFilePaths(file: Dict, ctx: PathContext): Dict {
  const out = clone(file);
  if (isRecord(out.services)) {
    for (const [name, svc] of Object.entries(out.services)) if (isRecord(svc)) setOwn(out.services, name, resolveServicePaths(svc, ctx));
  }
  for (const kind of ['secrets', 'configs'] as const) {
    const defs = out[kind];
    if (!isRecord(defs)) continue;
    for (const def of Object.values(defs)) if (isRecord(def) && typeof def.file === 'string') def.file = resolvePath(def.file, ctx);
  }
  return out;
}
