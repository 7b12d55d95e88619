// Small helpers shared by the pure stages.
import { createHash } from 'node:crypto';

export type Dict = Record<string, unknown>;

export function isRecord(v: unknown): v is Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Sets a key even when it is `__proto__`: file contents must never reach an object's prototype. */
export function setOwn(obj: Dict, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (isRecord(v)) {
    const out: Dict = {};
    for (const [k, x] of Object.entries(v)) setOwn(out, k, clone(x));
    return out as T;
  }
  return v;
}

/** JSON with keys sorted at every level: the same model always gives the same bytes (config hash). */
export function stableStringify(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isRecord(v)) {
    const out: Dict = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) setOwn(out, k, sortKeys(v[k]));
    return out;
  }
  return v;
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

/** A scalar from the file as the string Compose would use (numbers and booleans written bare). */
export function scalarString(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}
