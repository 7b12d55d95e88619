// Docker's `-v` / HostConfig.Binds syntax (Linux): `name:/path[:opts]`, `/host:/path[:opts]`, and the
// anonymous `/path`. The CLI checks it before sending and the daemon parses the same strings, so both
// use this one parser.
import { posix } from 'node:path';

export class BindSpecError extends Error {
  override name = 'BindSpecError';
}

export type Propagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';
const PROPAGATIONS: readonly string[] = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

export interface BindSpec {
  /** `bind` for a host path, `volume` for a named or anonymous volume. */
  type: 'bind' | 'volume';
  /** Host path (bind), volume name (named volume), or '' (anonymous volume). */
  source: string;
  target: string;
  readOnly: boolean;
  /** SELinux relabel option as given (z or Z); kept for inspect, not acted on. */
  relabel?: 'z' | 'Z';
  propagation?: Propagation;
  /** `nocopy`: do not fill a new volume from the image. */
  noCopy: boolean;
  /** The mode field as written (Docker's MountPoint.Mode). */
  mode: string;
}

/** Docker's local volume name rule, shared with container names. */
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const EXPECTED = 'expected [SOURCE:]TARGET[:ro|rw|z|Z|nocopy|<propagation>], with absolute paths';

function fail(spec: string, why: string): never {
  throw new BindSpecError(`invalid volume specification: '${spec}': ${why} (${EXPECTED})`);
}

/** Normalises a container or host path the way Go's filepath.Clean does ("/x/" → "/x"). */
export function cleanPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

export function parseBindSpec(spec: string): BindSpec {
  if (spec.trim() === '') fail(spec, 'empty');
  const parts = spec.split(':');
  if (parts.length > 3) fail(spec, 'too many colons');
  let source = '';
  let target: string;
  let mode = '';
  if (parts.length === 1) {
    target = parts[0]!;
  } else if (parts.length === 2) {
    // `/data:ro` is not a bind of "/data" onto "ro": Docker reads a two-part spec whose second part is
    // not a path as an error, so do we.
    [source, target] = parts as [string, string];
  } else {
    [source, target, mode] = parts as [string, string, string];
  }
  if (target === '') fail(spec, 'empty target path');
  if (!target.startsWith('/')) fail(spec, `invalid mount path: '${target}' mount path must be absolute`);
  if (cleanPath(target) === '/') fail(spec, `invalid specification: destination can't be '/'`);
  let type: 'bind' | 'volume' = 'volume';
  if (parts.length > 1) {
    if (source === '') fail(spec, 'empty source');
    if (source.startsWith('/')) type = 'bind';
    else if (!VOLUME_NAME_RE.test(source)) {
      fail(
        spec,
        `"${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    }
  }
  let readOnly = false;
  let relabel: 'z' | 'Z' | undefined;
  let propagation: Propagation | undefined;
  let noCopy = false;
  let rwSeen = false;
  if (parts.length === 3) {
    if (mode === '') fail(spec, 'empty mode');
    for (const o of mode.split(',')) {
      if (o === 'ro' || o === 'rw') {
        if (rwSeen) fail(spec, `invalid mode: ${mode} (ro and rw given twice)`);
        rwSeen = true;
        readOnly = o === 'ro';
      } else if (o === 'z' || o === 'Z') {
        if (relabel) fail(spec, `invalid mode: ${mode} (z/Z given twice)`);
        relabel = o;
      } else if (PROPAGATIONS.includes(o)) {
        if (propagation) fail(spec, `invalid mode: ${mode} (propagation given twice)`);
        if (type === 'volume') fail(spec, `invalid mode: ${mode} (propagation only applies to bind mounts)`);
        propagation = o as Propagation;
      } else if (o === 'nocopy') {
        if (type === 'bind') fail(spec, `invalid mode: ${mode} (nocopy only applies to volumes)`);
        noCopy = true;
      } else {
        fail(spec, `invalid mode: ${mode}`);
      }
    }
  }
  const out: BindSpec = { type, source, target: cleanPath(target), readOnly, noCopy, mode };
  if (relabel) out.relabel = relabel;
  if (propagation) out.propagation = propagation;
  if (type === 'bind') out.source = cleanPath(source);
  return out;
}
