// Scalar conversions for normalisation. The schema lets most values be strings (so that they can
// come from variables); these turn them into what they mean, or fail with the reason.
import { formatDuration, bytesOrUndefined as parseBytes, durationOrUndefined as parseDuration } from '../lib/units.js';
import { isRecord, setOwn } from './util.js';

export class ValueError extends Error {}

export function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    if (/^(true|yes|on|1)$/i.test(v)) return true;
    if (/^(false|no|off|0)$/i.test(v)) return false;
  }
  throw new ValueError(`'${String(v)}' is not a boolean`);
}

export function toNumber(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new ValueError(`'${String(v)}' is not a number`);
  return n;
}

export function toInt(v: unknown): number {
  const n = toNumber(v);
  if (!Number.isInteger(n)) throw new ValueError(`'${String(v)}' is not an integer`);
  return n;
}

export function toDuration(v: unknown): string {
  const ns = parseDuration(String(v));
  if (ns === undefined) throw new ValueError(`'${String(v)}' is not a duration (like 10s, 1m30s, 500ms)`);
  return formatDuration(ns);
}

export function toBytes(v: unknown): number {
  const n = parseBytes(v as string | number);
  if (n === undefined) throw new ValueError(`'${String(v)}' is not a size (like 512m, 1g, 1048576)`);
  return n;
}

export function toOctalMode(v: unknown): number {
  if (typeof v === 'number') return v;
  const s = String(v);
  if (!/^0?[0-7]{1,4}$/.test(s)) throw new ValueError(`'${s}' is not an octal file mode`);
  return parseInt(s, 8);
}

export function toStringList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => String(x));
}

/** list_or_dict to a mapping; `K` alone and null values become null. */
export function toMapping(v: unknown): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const i = s.indexOf('=');
      if (i === -1) setOwn(out, s, null);
      else setOwn(out, s.slice(0, i), s.slice(i + 1));
    }
  } else if (isRecord(v)) {
    for (const [k, x] of Object.entries(v)) setOwn(out, k, x === null || x === undefined ? null : String(x));
  }
  return out;
}

/** Like toMapping, for labels and sysctls where a missing value means the empty string. */
export function toStringMapping(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(toMapping(v))) setOwn(out, k, x ?? '');
  return out;
}
