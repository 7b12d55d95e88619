// The Compose merge rules for several files (and for `extends`): mappings merge key by key, later
// wins for scalars, sequences append, with the spec's exceptions: command, entrypoint and
// healthcheck.test are replaced; environment, labels and the other list-or-dict keys merge as
// mappings; depends_on and networks merge per entry whatever form each file uses. Entries of ports,
// volumes, secrets and configs that identify the same thing are reconciled by normalise.ts, which
// parses them anyway. !reset and !override apply after a file is merged.
import type { PathSegment } from './errors.js';
import type { YamlTags } from './yaml.js';
import { clone, isRecord, setOwn, stableStringify, type Dict } from './util.js';

const REPLACED = new Set(['command', 'entrypoint', 'extends']);
const AS_MAPPING = new Set(['environment', 'labels', 'annotations', 'sysctls']);
const STRING_OR_LIST = new Set(['dns', 'dns_search', 'tmpfs', 'env_file', 'label_file']);
const BUILD_AS_MAPPING = new Set(['args', 'labels', 'additional_contexts', 'ssh']);

/** list form "K=V" / "K" → mapping form; `sep` is where a value starts. */
export function listToMapping(list: readonly unknown[], seps = '='): Dict {
  const out: Dict = {};
  for (const item of list) {
    const s = String(item);
    let idx = -1;
    for (const c of seps) {
      const i = s.indexOf(c);
      if (i !== -1 && (idx === -1 || i < idx)) idx = i;
    }
    if (idx === -1) setOwn(out, s, null);
    else setOwn(out, s.slice(0, idx), s.slice(idx + 1));
  }
  return out;
}

function asMapping(v: unknown, seps = '='): Dict {
  if (Array.isArray(v)) return listToMapping(v, seps);
  return isRecord(v) ? v : {};
}

function asList(v: unknown): unknown[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function appendUnique(a: unknown[], b: unknown[]): unknown[] {
  const seen = new Set(a.map((x) => stableStringify(x)));
  const out = [...a];
  for (const x of b) {
    const k = stableStringify(x);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(x);
    }
  }
  return out;
}

/** Default rule: mappings recursively, sequences appended (without exact duplicates), else later wins. */
export function mergeGeneric(a: unknown, b: unknown): unknown {
  if (isRecord(a) && isRecord(b)) {
    const out = clone(a);
    for (const [k, v] of Object.entries(b)) setOwn(out, k, Object.hasOwn(out, k) ? mergeGeneric(out[k], v) : clone(v));
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) return appendUnique(a, b);
  return clone(b);
}

function mergeMappingForm(a: unknown, b: unknown, seps = '='): Dict {
  const out = clone(asMapping(a, seps));
  for (const [k, v] of Object.entries(asMapping(b, seps))) setOwn(out, k, clone(v));
  return out;
}

function dependsOnMapping(v: unknown): Dict {
  if (!Array.isArray(v)) return isRecord(v) ? v : {};
  const out: Dict = {};
  for (const name of v) setOwn(out, String(name), { condition: 'service_started' });
  return out;
}

function networksMapping(v: unknown): Dict {
  if (!Array.isArray(v)) return isRecord(v) ? v : {};
  const out: Dict = {};
  for (const name of v) setOwn(out, String(name), null);
  return out;
}

function mergeEntries(a: Dict, b: Dict): Dict {
  const out = clone(a);
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    // A bare entry (null) in a later file keeps what an earlier one configured for it.
    if (v === null && prev !== undefined) continue;
    setOwn(out, k, prev !== undefined ? mergeGeneric(prev, v) : clone(v));
  }
  return out;
}

function mergeBuild(a: unknown, b: unknown): unknown {
  const ad: Dict = typeof a === 'string' ? { context: a } : isRecord(a) ? a : {};
  const bd: Dict = typeof b === 'string' ? { context: b } : isRecord(b) ? b : {};
  const out = clone(ad);
  for (const [k, v] of Object.entries(bd)) {
    if (!Object.hasOwn(out, k)) setOwn(out, k, clone(v));
    else if (BUILD_AS_MAPPING.has(k)) setOwn(out, k, mergeMappingForm(out[k], v));
    else if (k === 'extra_hosts') setOwn(out, k, mergeMappingForm(out[k], v, '=:'));
    else setOwn(out, k, mergeGeneric(out[k], v));
  }
  return out;
}

function mergeLogging(a: unknown, b: unknown): unknown {
  if (isRecord(a) && isRecord(b) && a.driver !== undefined && b.driver !== undefined && a.driver !== b.driver) return clone(b);
  return mergeGeneric(a, b);
}

function mergeHealthcheck(a: unknown, b: unknown): unknown {
  if (!isRecord(a) || !isRecord(b)) return clone(b);
  const out = clone(a);
  for (const [k, v] of Object.entries(b)) setOwn(out, k, k === 'test' ? clone(v) : Object.hasOwn(out, k) ? mergeGeneric(out[k], v) : clone(v));
  return out;
}

function mergeDeploy(a: unknown, b: unknown): unknown {
  if (!isRecord(a) || !isRecord(b)) return clone(b ?? a);
  const out = clone(a);
  for (const [k, v] of Object.entries(b)) {
    if (k === 'labels' && Object.hasOwn(out, k)) setOwn(out, k, mergeMappingForm(out[k], v));
    else setOwn(out, k, Object.hasOwn(out, k) ? mergeGeneric(out[k], v) : clone(v));
  }
  return out;
}

function mergeServiceKey(key: string, a: unknown, b: unknown): unknown {
  if (REPLACED.has(key)) return clone(b);
  if (AS_MAPPING.has(key)) return mergeMappingForm(a, b);
  if (key === 'extra_hosts') return mergeMappingForm(a, b, '=:');
  if (STRING_OR_LIST.has(key)) return appendUnique(asList(a), asList(b));
  switch (key) {
    case 'build':
      return mergeBuild(a, b);
    case 'depends_on':
      return mergeEntries(dependsOnMapping(a), dependsOnMapping(b));
    case 'networks':
    case 'models':
      return mergeEntries(networksMapping(a), networksMapping(b));
    case 'logging':
      return mergeLogging(a, b);
    case 'healthcheck':
      return mergeHealthcheck(a, b);
    case 'deploy':
      return mergeDeploy(a, b);
    case 'ulimits': {
      if (!isRecord(a) || !isRecord(b)) return clone(b);
      const out = clone(a);
      for (const [k, v] of Object.entries(b)) setOwn(out, k, clone(v));
      return out;
    }
    default:
      return mergeGeneric(a, b);
  }
}

/** Merges one service definition over another (later file, or the extending service over its base). */
export function mergeService(base: Dict, over: Dict): Dict {
  const out = clone(base);
  for (const [k, v] of Object.entries(over)) setOwn(out, k, Object.hasOwn(out, k) ? mergeServiceKey(k, out[k], v) : clone(v));
  return out;
}

/** Merges a whole file over the files before it. */
export function mergeProjects(base: Dict, over: Dict): Dict {
  const out = clone(base);
  for (const [k, v] of Object.entries(over)) {
    if (!Object.hasOwn(out, k)) {
      setOwn(out, k, clone(v));
      continue;
    }
    if (k === 'services' && isRecord(out[k]) && isRecord(v)) {
      const services = out[k] as Dict;
      for (const [name, svc] of Object.entries(v)) {
        const prev = services[name];
        setOwn(services, name, isRecord(prev) && isRecord(svc) ? mergeService(prev, svc) : clone(svc));
      }
    } else if (k === 'include') {
      setOwn(out, k, appendUnique(asList(out[k]), asList(v)));
    } else {
      setOwn(out, k, mergeGeneric(out[k], v));
    }
  }
  return out;
}

export function getAt(root: unknown, path: readonly PathSegment[]): unknown {
  let v = root;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isRecord(v) && typeof seg === 'string' && Object.hasOwn(v, seg)) v = v[seg];
    else return undefined;
  }
  return v;
}

function parentOf(root: unknown, path: readonly PathSegment[]): unknown {
  return getAt(root, path.slice(0, -1));
}

/**
 * Applies a file's !reset and !override tags to the merge result. `source` is the file (tags are
 * paths in it); `prefix` maps them into `target` (used by extends, where a service is merged alone).
 */
export function applyTags(target: Dict, source: unknown, tags: YamlTags, from: readonly PathSegment[] = [], to: readonly PathSegment[] = []): void {
  const rel = (p: PathSegment[]) => (from.every((s, i) => p[i] === s) && p.length > from.length ? [...to, ...p.slice(from.length)] : undefined);
  for (const p of tags.overrides) {
    const dest = rel(p);
    if (!dest) continue;
    const parent = parentOf(target, dest);
    const last = dest[dest.length - 1]!;
    const value = clone(getAt(source, p));
    if (isRecord(parent) && typeof last === 'string') setOwn(parent, last, value);
    else if (Array.isArray(parent) && typeof last === 'number') parent[last] = value;
  }
  // Deepest first, so that removing a list element does not shift one that is reset after it.
  const resets = tags.resets.map(rel).filter((p): p is PathSegment[] => p !== undefined);
  resets.sort((a, b) => b.length - a.length || (typeof b[b.length - 1] === 'number' ? Number(b[b.length - 1]) - Number(a[a.length - 1]) : 0));
  for (const dest of resets) {
    const parent = parentOf(target, dest);
    const last = dest[dest.length - 1]!;
    if (isRecord(parent) && typeof last === 'string') delete parent[last];
    else if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
  }
}

/** Removes tagged paths from a file before it is validated or merged: a reset key is not a value. */
export function withoutResets(value: unknown, tags: YamlTags): unknown {
  const out = clone(value);
  applyTags(out as Dict, value, { resets: tags.resets, overrides: [] });
  return out;
}
