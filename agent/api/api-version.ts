// Engine API versions: the `/vX.Y/` path prefix a client sends, and their order. Pure.

/** The oldest API version served (Docker's own minimum since 25.0). */
export const MIN_API_VERSION = '1.24';

const PREFIX = /^\/v(\d+\.\d+)(?=\/)/;

/** Splits `/v1.45/containers/json` into the version and the path without it. */
export function parseVersionPrefix(pathname: string): { version?: string; path: string } {
  const m = PREFIX.exec(pathname);
  if (!m) return { path: pathname };
  return { version: m[1]!, path: pathname.slice(m[0].length) };
}

/** Numeric order of "major.minor" versions (1.9 < 1.24 < 1.50). */
export function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

/** True when the client's version is `v` or newer (the shape switches Docker keys on). */
export function atLeast(clientVersion: string, v: string): boolean {
  return compareVersions(clientVersion, v) >= 0;
}
