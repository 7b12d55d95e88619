// .env and env_file parsing with the dotenv rules docker compose uses: `export` prefix, comments,
// single quotes literal, double quotes with escapes, multi-line quoted values, interpolation of
// unquoted and double-quoted values against the variables defined so far, then the lookup.
import { interpolateString, InterpolationError, type Lookup } from './interpolate.js';

export class DotEnvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'DotEnvError';
  }
}

export interface DotEnvOptions {
  /** Variables not defined earlier in the file (the OS environment, typically). */
  lookup?: Lookup;
  /** `raw`: KEY=VALUE taken literally, no quotes, no interpolation (env_file `format: raw`). */
  format?: 'raw';
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.\-[\]]*$/;

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"', $: '$$' };

export function parseDotEnv(text: string, opts: DotEnvOptions = {}): Record<string, string> {
  const vars: Record<string, string> = Object.create(null) as Record<string, string>;
  const lookup: Lookup = (n) => (Object.hasOwn(vars, n) ? vars[n] : opts.lookup?.(n));
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;
  const expand = (v: string): string => {
    try {
      return interpolateString(v, lookup).value;
    } catch (e) {
      if (e instanceof InterpolationError) throw new DotEnvError(line, e.message);
      throw e;
    }
  };
  while (i < src.length) {
    const eol = src.indexOf('\n', i) === -1 ? src.length : src.indexOf('\n', i);
    const startLine = line;
    let raw = src.slice(i, eol);
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = eol + 1;
      line++;
      continue;
    }
    raw = raw.replace(/^\s+/, '');
    if (opts.format !== 'raw' && /^export\s/.test(raw)) raw = raw.replace(/^export\s+/, '');
    const eq = raw.indexOf('=');
    if (eq === -1) {
      const key = raw.replace(/\s+#.*$/, '').trim();
      if (!KEY.test(key)) throw new DotEnvError(startLine, `invalid variable name '${key}'`);
      // A bare name takes its value from the environment, and is skipped when that has none.
      const v = opts.lookup?.(key);
      if (v !== undefined) vars[key] = v;
      i = eol + 1;
      line++;
      continue;
    }
    const key = raw.slice(0, eq).trim();
    if (!KEY.test(key)) throw new DotEnvError(startLine, `invalid variable name '${key}'`);
    const valueStart = i + (src.slice(i, eol).length - raw.length) + eq + 1;
    if (opts.format === 'raw') {
      vars[key] = src.slice(valueStart, eol);
      i = eol + 1;
      line++;
      continue;
    }
    let j = valueStart;
    while (j < eol && (src[j] === ' ' || src[j] === '\t')) j++;
    const q = src[j];
    if (q === "'" || q === '"') {
      let k = j + 1;
      let value = '';
      for (;;) {
        if (k >= src.length) throw new DotEnvError(startLine, `unterminated quoted value for ${key}`);
        const c = src[k]!;
        if (c === q) break;
        if (c === '\n') line++;
        if (q === '"' && c === '\\' && k + 1 < src.length) {
          const e = src[k + 1]!;
          value += ESCAPES[e] ?? `\\${e}`;
          k += 2;
          continue;
        }
        value += c;
        k++;
      }
      vars[key] = q === "'" ? value : expand(value);
      const after = src.indexOf('\n', k) === -1 ? src.length : src.indexOf('\n', k);
      const rest = src.slice(k + 1, after).trim();
      if (rest !== '' && !rest.startsWith('#')) throw new DotEnvError(line, `unexpected characters after quoted value of ${key}: '${rest}'`);
      i = after + 1;
      line++;
      continue;
    }
    // Unquoted: an inline comment needs whitespace before the #, so URLs with fragments survive.
    const value = src.slice(j, eol).replace(/\s+#.*$/, '').trim();
    vars[key] = expand(value);
    i = eol + 1;
    line++;
  }
  return { ...vars };
}
