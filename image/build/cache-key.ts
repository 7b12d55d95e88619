// Build-cache keys, keyed like Docker's: a step is reused when its parent is the same and the step
// would do the same thing. For most instructions that is the instruction after variable expansion (plus
// the build args RUN sees in its environment); for COPY/ADD it is a checksum of what lands in the layer
// (paths, modes, owners, contents) — never timestamps, so touching or editing an unrelated file in the
// context keeps the cache.

import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal values always serialise (and hash) the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The key a stage starts from: the base image's ID, or `scratch`. Platform is part of it. */
export function baseKey(base: { imageId: string } | 'scratch', platform = 'linux/amd64'): string {
  return `sha256:${sha256Hex(canonicalJson({ v: 1, base: base === 'scratch' ? 'scratch' : base.imageId, platform }))}`;
}

/**
 * The key of a step: its parent's key and a normalised description of the step (what an instruction
 * does after expansion, never its line number or spelling). Chained, so a change invalidates every
 * step after it.
 */
export function stepKey(parentKey: string, step: unknown): string {
  return `sha256:${sha256Hex(`${parentKey}\n${canonicalJson(step)}`)}`;
}

/** One entry a COPY/ADD writes, as far as the cache is concerned. */
export interface ContentRecord {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'archive';
  mode: number;
  uid: number;
  gid: number;
  /** sha256 of the file's bytes (files and archives). */
  digest?: string;
  linkTarget?: string;
}

/** Checksum over everything a COPY/ADD would write; independent of the order entries are given in. */
export function contentChecksum(records: readonly ContentRecord[]): string {
  const h = createHash('sha256');
  const sorted = [...records].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const r of sorted) {
    h.update(canonicalJson({ p: r.path, t: r.type, m: r.mode, u: r.uid, g: r.gid, d: r.digest, l: r.linkTarget }));
    h.update('\n');
  }
  return `sha256:${h.digest('hex')}`;
}
