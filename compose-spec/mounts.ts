// Service volume syntax: short "[source:]target[:options]" and the long form, to Mount. Relative
// bind sources were made absolute by paths.ts before this runs.
import type { Mount, MountType } from './model.js';
import { bytesOrUndefined as parseBytes } from '../lib/units.js';

export class MountError extends Error {}

const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated']);

function isPath(s: string): boolean {
  return s.startsWith('/') || s.startsWith('.') || s.startsWith('~');
}

export function parseMountString(spec: string): Mount {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new MountError(`'${spec}' is not a volume mapping`);
  let source: string | undefined;
  let target: string;
  let options: string[] = [];
  if (parts.length === 1) target = parts[0]!;
  else {
    source = parts[0]!;
    target = parts[1]!;
    if (parts.length === 3) options = parts[2]!.split(',');
  }
  if (!target.startsWith('/')) throw new MountError(`'${spec}' is not a volume mapping: the container path '${target}' is not absolute`);
  const type: MountType = source === undefined ? 'volume' : isPath(source) ? 'bind' : 'volume';
  const m: Mount = { type, target, read_only: false };
  if (source !== undefined) m.source = source;
  for (const o of options) {
    if (o === 'ro') m.read_only = true;
    else if (o === 'rw') m.read_only = false;
    else if (o === 'z' || o === 'Z') {
      if (type !== 'bind') throw new MountError(`'${spec}': option '${o}' applies to bind mounts only`);
      m.bind = { ...(m.bind ?? { create_host_path: true }), selinux: o };
    } else if (PROPAGATION.has(o)) {
      if (type !== 'bind') throw new MountError(`'${spec}': option '${o}' applies to bind mounts only`);
      m.bind = { ...(m.bind ?? { create_host_path: true }), propagation: o };
    } else if (o === 'nocopy') {
      if (type !== 'volume') throw new MountError(`'${spec}': option 'nocopy' applies to volumes only`);
      m.volume = { nocopy: true };
    } else if (CONSISTENCY.has(o)) m.consistency = o;
    else throw new MountError(`'${spec}' is not a volume mapping: unknown option '${o}'`);
  }
  // Short syntax creates a missing host directory, as docker compose always did.
  if (type === 'bind' && !m.bind) m.bind = { create_host_path: true };
  return m;
}

function toBool(v: unknown, what: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new MountError(`${what} must be a boolean, got '${String(v)}'`);
}

function octal(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  const s = String(v);
  if (!/^0?[0-7]+$/.test(s)) throw new MountError(`${what} must be an octal file mode, got '${s}'`);
  return parseInt(s, 8);
}

type Dict = Record<string, unknown>;

export function parseMountObject(v: Dict): Mount {
  const type = v.type as MountType;
  if (v.target === undefined || v.target === '') {
    throw new MountError(`${JSON.stringify(v)} is not a volume mapping: target is required`);
  }
  const target = String(v.target);
  if (!target.startsWith('/') && type !== 'npipe') throw new MountError(`target '${target}' is not an absolute path`);
  const m: Mount = { type, target, read_only: v.read_only === undefined ? false : toBool(v.read_only, 'read_only') };
  if (v.source !== undefined && v.source !== '') m.source = String(v.source);
  if (type === 'bind' && m.source === undefined) throw new MountError(`bind mount of '${target}' needs a source`);
  if (type === 'tmpfs' && m.source !== undefined) throw new MountError(`tmpfs mount of '${target}' cannot have a source`);
  if (type === 'image' && m.source === undefined) throw new MountError(`image mount of '${target}' needs a source image`);
  if (v.consistency !== undefined) m.consistency = String(v.consistency);
  const bind = v.bind as Dict | undefined;
  if (bind !== undefined && type !== 'bind') throw new MountError(`'bind' options given for a ${type} mount`);
  if (type === 'bind') {
    m.bind = { create_host_path: bind?.create_host_path === undefined ? true : toBool(bind.create_host_path, 'bind.create_host_path') };
    if (bind?.propagation !== undefined) {
      const p = String(bind.propagation);
      if (!PROPAGATION.has(p)) throw new MountError(`unknown bind propagation '${p}'`);
      m.bind.propagation = p;
    }
    if (bind?.selinux !== undefined) m.bind.selinux = bind.selinux as 'z' | 'Z';
    if (bind?.recursive !== undefined) m.bind.recursive = String(bind.recursive);
  }
  const vol = v.volume as Dict | undefined;
  if (vol !== undefined) {
    if (type !== 'volume') throw new MountError(`'volume' options given for a ${type} mount`);
    m.volume = { nocopy: vol.nocopy === undefined ? false : toBool(vol.nocopy, 'volume.nocopy') };
    if (vol.subpath !== undefined) m.volume.subpath = String(vol.subpath);
  }
  const tmpfs = v.tmpfs as Dict | undefined;
  if (tmpfs !== undefined) {
    if (type !== 'tmpfs') throw new MountError(`'tmpfs' options given for a ${type} mount`);
    m.tmpfs = {};
    if (tmpfs.size !== undefined) {
      const size = parseBytes(tmpfs.size as string | number);
      if (size === undefined) throw new MountError(`tmpfs.size '${String(tmpfs.size)}' is not a size`);
      m.tmpfs.size = size;
    }
    if (tmpfs.mode !== undefined) m.tmpfs.mode = octal(tmpfs.mode, 'tmpfs.mode');
  }
  const image = v.image as Dict | undefined;
  if (image !== undefined) {
    if (type !== 'image') throw new MountError(`'image' options given for a ${type} mount`);
    m.image = image.subpath !== undefined ? { subpath: String(image.subpath) } : {};
  }
  return m;
}

export function parseMount(v: unknown): Mount {
  return typeof v === 'string' ? parseMountString(v) : parseMountObject(v as Dict);
}
