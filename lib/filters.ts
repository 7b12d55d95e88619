// Docker's `filters` query parameter: JSON of either `{"label":["a=b"]}` or the older
// `{"label":{"a=b":true}}`, plus the matchers list/prune endpoints share.

import { InvalidArgumentError } from './errors.js';

export class FilterError extends InvalidArgumentError {
  override name = 'FilterError';
}

export type Filters = Record<string, string[]>;

/** Parses the `filters` query value (absent or empty → no filters). */
export function parseFilters(text: string | null | undefined): Filters {
  if (!text) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FilterError(`invalid filters: ${(err as Error).message} (expected JSON such as {"label":["a=b"]})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FilterError('invalid filters: expected a JSON object such as {"label":["a=b"]}');
  const out: Filters = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
    else if (typeof v === 'object' && v !== null) out[k] = Object.entries(v as Record<string, unknown>).filter(([, on]) => on === true).map(([x]) => x);
    else throw new FilterError(`invalid filters: the value of "${k}" must be a list of strings`);
  }
  return out;
}

/** Docker: `invalid filter 'x'` for a key the endpoint does not know. */
export function checkFilterKeys(f: Filters, allowed: readonly string[]): void {
  for (const k of Object.keys(f)) {
    if (!allowed.includes(k)) throw new FilterError(`invalid filter '${k}' (supported: ${allowed.join(', ')})`);
  }
}

/** A boolean filter (`dangling=true`); undefined when absent. Conflicting values are an error. */
export function boolFilter(f: Filters, key: string): boolean | undefined {
  const vals = f[key];
  if (!vals || vals.length === 0) return undefined;
  const parsed = new Set(
    vals.map((v) => {
      const l = v.toLowerCase();
      if (l === 'true' || l === '1') return true;
      if (l === 'false' || l === '0') return false;
      throw new FilterError(`invalid filter '${key}=${v}' (expected true or false)`);
    }),
  );
  if (parsed.size > 1) throw new FilterError(`invalid filter '${key}': both true and false given`);
  return [...parsed][0];
}

/** Every `key` or `key=value` in `wanted` must be present on the object (Docker ANDs label filters). */
export function matchLabels(labels: Record<string, string> | undefined, wanted: readonly string[]): boolean {
  const l = labels ?? {};
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return Object.prototype.hasOwnProperty.call(l, w);
    return l[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

/** `label!=`: none of these may match. */
export function matchNoLabels(labels: Record<string, string> | undefined, unwanted: readonly string[]): boolean {
  return unwanted.every((u) => !matchLabels(labels, [u]));
}

/** Docker's name filters are regular expressions matched anywhere; a bad regexp is taken literally. */
export function matchName(name: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => {
    try {
      return new RegExp(p).test(name);
    } catch {
      return name.includes(p);
    }
  });
}
