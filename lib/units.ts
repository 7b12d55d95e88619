// Sizes, durations and relative times as Docker's CLI reads and prints them (go-units, Go's
// time.Duration). Pure: every "now" is passed in.

export class UnitsError extends Error {
  override name = 'UnitsError';
}

const BINARY: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
const SIZE_RE = /^(\d+(?:\.\d+)?) ?([kmgtp])?(?:i?b)?$/i;

/**
 * go-units RAMInBytes: "512", "512b", "10k", "512m", "1g", "1.5g", "2GiB"; the multipliers are
 * binary (k = 1024) whatever the suffix spelling, as in Docker's `-m` and `--shm-size`.
 */
export function ramInBytes(text: string): number {
  const m = SIZE_RE.exec(text.trim());
  if (!m) throw new UnitsError(`invalid size: '${text}' (expected a number with an optional unit b, k, m, g, t or p, e.g. 512m or 1.5g)`);
  const n = Number(m[1]) * BINARY[(m[2] ?? '').toLowerCase()]!;
  if (!Number.isFinite(n) || n > Number.MAX_SAFE_INTEGER) throw new UnitsError(`invalid size: '${text}' (too large)`);
  // go-units truncates toward zero when converting the float product to int64.
  return Math.trunc(n);
}

const DECIMAL_ABBRS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's `%.<p>g`: shortest of fixed/exponent at `p` significant digits, trailing zeros dropped. */
export function formatG(x: number, precision: number): string {
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  let s = x.toPrecision(precision);
  // toPrecision may round up into the next decade (999.95 → "1.00e+3"); Go then switches to exponent form too.
  const useExp = exp < -4 || exp >= precision || s.includes('e');
  if (useExp) {
    s = x.toExponential(precision - 1);
    const [mant, e] = s.split('e') as [string, string];
    const m = mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant;
    const sign = e.startsWith('-') ? '-' : '+';
    const digits = e.replace(/^[+-]/, '').padStart(2, '0');
    return `${m}e${sign}${digits}`;
  }
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function customSize(size: number, precision: number, base: number, abbrs: string[]): string {
  let i = 0;
  while (size >= base && i < abbrs.length - 1) {
    size /= base;
    i++;
  }
  return `${formatG(size, precision)}${abbrs[i]}`;
}

/** go-units HumanSize (decimal, 4 significant digits): 12345678 → "12.35MB". */
export function humanSize(bytes: number): string {
  return customSize(bytes, 4, 1000, DECIMAL_ABBRS);
}

/** go-units HumanSizeWithPrecision; `docker images` and `docker ps -s` use 3 digits ("12.3MB"). */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  return customSize(bytes, precision, 1000, DECIMAL_ABBRS);
}

/** go-units BytesSize (binary, as `docker stats` prints memory): 1536 → "1.5KiB". */
export function bytesSize(bytes: number): string {
  return customSize(bytes, 4, 1024, BINARY_ABBRS);
}

// ---- Go durations ----------------------------------------------------------------------------

const NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration ("30s", "1m30s", "1h", "500ms", "2.5s", "-1.5h") → nanoseconds. */
export function parseDuration(text: string): number {
  const bad = (why: string): never => {
    throw new UnitsError(`time: invalid duration "${text}": ${why} (expected e.g. 30s, 1m30s, 500ms; units ns, us, ms, s, m, h)`);
  };
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') bad('empty');
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/;
  while (s !== '') {
    const m = re.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) {
      if (/^[\d.]+$/.test(s)) bad('missing unit');
      bad(`unexpected "${s}"`);
    }
    const unit = NS[m![3]!];
    if (unit === undefined) bad(`unknown unit "${m![3]}"`);
    const whole = m![1] === '' ? 0 : Number(m![1]);
    const frac = m![2] ? Number(`0.${m![2]}`) : 0;
    total += whole * unit! + Math.round(frac * unit!);
    s = s.slice(m![0].length);
  }
  if (!Number.isSafeInteger(total)) bad('too large');
  return sign * total;
}

/** Go's Duration.String(): 90e9 → "1m30s", 5e8 → "500ms", 0 → "0s", 3600e9 → "1h0m0s". */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(Math.round(ns));
  let out: string;
  if (u < 1e9) {
    // Sub-second: the largest unit that keeps a non-zero integer part, with a decimal fraction.
    const [unit, size] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFrac(u, size)}${unit}`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const sec = `${trimFrac(u, 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? `-${out}` : out;
}

function trimFrac(v: number, size: number): string {
  const whole = Math.floor(v / size);
  const rest = v - whole * size;
  if (rest === 0) return String(whole);
  const digits = String(size).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}

/**
 * A duration as a Compose file gives it: surrounding blanks ignored, undefined (not an error) when
 * it is not one, so the caller can name the key it came from.
 */
export function durationOrUndefined(text: string): number | undefined {
  try {
    return parseDuration(text.trim());
  } catch (e) {
    if (e instanceof UnitsError) return undefined;
    throw e;
  }
}

/** A size as a Compose file gives it: a non-negative number of bytes, or text as ramInBytes reads it; undefined when neither. */
export function bytesOrUndefined(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
  try {
    return ramInBytes(v);
  } catch (e) {
    if (e instanceof UnitsError) return undefined;
    throw e;
  }
}

// ---- relative times ----------------------------------------------------------------------------

/** go-units HumanDuration, from milliseconds: "Less than a second", "About a minute", "2 hours", "3 weeks". */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** "2 hours ago", as `docker ps` CREATED and `docker images` CREATED print. */
export function timeAgo(then: Date | string | number, now: Date | number): string {
  return `${humanDuration(toMs(now) - toMs(then))} ago`;
}

function toMs(t: Date | string | number): number {
  return t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : t;
}

/** The parts of a container's State that `docker ps` STATUS is made from (Engine API names). */
export interface StatusState {
  Running: boolean;
  Paused?: boolean;
  Restarting?: boolean;
  Dead?: boolean;
  RemovalInProgress?: boolean;
  ExitCode: number;
  StartedAt?: string;
  FinishedAt?: string;
  Health?: { Status: string };
}

/** Go's zero time, which Docker writes for "never". */
const ZERO_TIME = '0001-01-01T00:00:00Z';
const isZero = (t: string | undefined): boolean => !t || t === ZERO_TIME || t.startsWith('0001-01-01');

/** Docker's State.String(): "Up 5 seconds (healthy)", "Exited (0) 2 hours ago", "Created" … */
export function statusText(s: StatusState, now: Date | number): string {
  const since = (t: string | undefined): string => humanDuration(toMs(now) - (isZero(t) ? toMs(now) : Date.parse(t!)));
  if (s.Running) {
    if (s.Paused) return `Up ${since(s.StartedAt)} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
    if (s.Health) return `Up ${since(s.StartedAt)} (${healthText(s.Health.Status)})`;
    return `Up ${since(s.StartedAt)}`;
  }
  if (s.RemovalInProgress) return 'Removal In Progress';
  if (s.Dead) return 'Dead';
  if (isZero(s.StartedAt)) return 'Created';
  if (isZero(s.FinishedAt)) return '';
  return `Exited (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
}

function healthText(status: string): string {
  return status === 'starting' ? 'health: starting' : status;
}
