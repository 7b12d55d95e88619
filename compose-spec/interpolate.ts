// Variable interpolation as the Compose spec defines it: $VAR, ${VAR}, ${VAR:-d}, ${VAR-d},
// ${VAR:?e}, ${VAR?e}, ${VAR:+a}, ${VAR+a}, $$ for a literal dollar, nesting inside the word.
// Pure: the caller passes the lookup (OS environment over .env).
import { formatPath, type PathSegment } from './errors.js';
import { setOwn } from './util.js';

export type Lookup = (name: string) => string | undefined;

export class InterpolationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterpolationError';
  }
}

type Part = string | VarRef;
interface VarRef {
  name: string;
  op: '' | ':-' | '-' | ':?' | '?' | ':+' | '+';
  word: Part[];
}

const NAME_START = /[_a-zA-Z]/;
const NAME_CHAR = /[_a-zA-Z0-9]/;
const OPS = [':-', ':?', ':+', '-', '?', '+'] as const;

// Parses from i up to end of string (top level) or the closing brace (inside a word). Returns the parts
// and the index just past what was consumed.
function parseParts(s: string, i: number, inWord: boolean): [Part[], number] {
  const parts: Part[] = [];
  let text = '';
  while (i < s.length) {
    const c = s[i]!;
    if (inWord && c === '}') {
      if (text) parts.push(text);
      return [parts, i];
    }
    if (c !== '$') {
      text += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      text += '$';
      i += 2;
    } else if (next !== undefined && NAME_START.test(next)) {
      let j = i + 1;
      while (j < s.length && NAME_CHAR.test(s[j]!)) j++;
      if (text) parts.push(text);
      text = '';
      parts.push({ name: s.slice(i + 1, j), op: '', word: [] });
      i = j;
    } else if (next === '{') {
      let j = i + 2;
      if (j >= s.length || !NAME_START.test(s[j]!)) throw new InterpolationError(`invalid interpolation format in '${s}': a variable name must follow '\${'`);
      while (j < s.length && NAME_CHAR.test(s[j]!)) j++;
      const name = s.slice(i + 2, j);
      let op: VarRef['op'] = '';
      let word: Part[] = [];
      if (s[j] !== '}') {
        const found = OPS.find((o) => s.startsWith(o, j));
        if (!found) {
          throw new InterpolationError(
            j >= s.length
              ? `invalid interpolation format in '${s}': missing closing brace`
              : `invalid interpolation format in '${s}': unexpected '${s[j]}' after variable name '${name}'`,
          );
        }
        op = found;
        [word, j] = parseParts(s, j + found.length, true);
        if (s[j] !== '}') throw new InterpolationError(`invalid interpolation format in '${s}': missing closing brace`);
      }
      if (text) parts.push(text);
      text = '';
      parts.push({ name, op, word });
      i = j + 1;
    } else {
      // A lone $ before anything else stays literal, as in docker compose.
      text += '$';
      i++;
    }
  }
  if (inWord) throw new InterpolationError(`invalid interpolation format in '${s}': missing closing brace`);
  if (text) parts.push(text);
  return [parts, i];
}

function evaluate(parts: Part[], lookup: Lookup, unset: Set<string>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    const v = lookup(p.name);
    const isSet = v !== undefined;
    const nonEmpty = isSet && v !== '';
    switch (p.op) {
      case '':
        if (!isSet) unset.add(p.name);
        out += v ?? '';
        break;
      case ':-':
        out += nonEmpty ? v : evaluate(p.word, lookup, unset);
        break;
      case '-':
        out += isSet ? v : evaluate(p.word, lookup, unset);
        break;
      case ':?':
      case '?': {
        const ok = p.op === ':?' ? nonEmpty : isSet;
        if (!ok) {
          const msg = evaluate(p.word, lookup, unset);
          throw new InterpolationError(`required variable ${p.name} is missing a value${msg ? `: ${msg}` : ''}`);
        }
        out += v;
        break;
      }
      case ':+':
        out += nonEmpty ? evaluate(p.word, lookup, unset) : '';
        break;
      case '+':
        out += isSet ? evaluate(p.word, lookup, unset) : '';
        break;
    }
  }
  return out;
}

export interface Interpolated {
  value: string;
  /** Variables used without a default that were not set: docker compose warns about each. */
  unset: string[];
  /** Whether the string contained anything to substitute (decides later type casting). */
  changed: boolean;
}

export function interpolateString(s: string, lookup: Lookup): Interpolated {
  if (!s.includes('$')) return { value: s, unset: [], changed: false };
  const [parts] = parseParts(s, 0, false);
  const unset = new Set<string>();
  const value = evaluate(parts, lookup, unset);
  return { value, unset: [...unset], changed: parts.some((p) => typeof p !== 'string') };
}

// Keys whose schema type has no string alternative: a value that came out of a variable is cast, as
// compose-go does, so that `required: ${REQ}` means a boolean rather than failing validation.
const CASTS: Array<[RegExp, 'bool' | 'int' | 'number']> = [
  [/^services\.[^.]+\.depends_on\.[^.]+\.required$/, 'bool'],
  [/^services\.[^.]+\.use_api_socket$/, 'bool'],
  [/^services\.[^.]+\.develop\.watch\[\d+\]\.initial_sync$/, 'bool'],
  [/^services\.[^.]+\.networks\.[^.]+\.(priority|gw_priority)$/, 'number'],
  [/^models\.[^.]+\.context_size$/, 'int'],
];

function cast(path: string, value: string): unknown {
  for (const [re, kind] of CASTS) {
    if (!re.test(path)) continue;
    if (kind === 'bool') {
      if (/^(true|yes|on|1)$/i.test(value)) return true;
      if (/^(false|no|off|0)$/i.test(value)) return false;
      return value;
    }
    const n = Number(value);
    if (value.trim() === '' || Number.isNaN(n)) return value;
    return n;
  }
  return value;
}

export interface TreeResult {
  value: unknown;
  unset: string[];
}

/** Interpolates every string value (never keys) of a parsed file. Errors name the key path. */
export function interpolateTree(value: unknown, lookup: Lookup, path: PathSegment[] = []): TreeResult {
  const unset = new Set<string>();
  const walk = (v: unknown, p: PathSegment[]): unknown => {
    if (typeof v === 'string') {
      let r: Interpolated;
      try {
        r = interpolateString(v, lookup);
      } catch (e) {
        if (e instanceof InterpolationError) throw new PathError(p, e.message);
        throw e;
      }
      r.unset.forEach((n) => unset.add(n));
      return r.changed ? cast(formatPath(p), r.value) : r.value;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...p, i]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) setOwn(out, k, walk(x, [...p, k]));
      return out;
    }
    return v;
  };
  return { value: walk(value, path), unset: [...unset] };
}

/** An error at a key path; load.ts adds the file. */
export class PathError extends Error {
  constructor(
    readonly path: PathSegment[],
    message: string,
  ) {
    super(message);
    this.name = 'PathError';
  }
}
