// Durations (Go syntax, as Compose files use: "1m30s", "500ms") and byte sizes ("512m", "1.5GB").
// Both come back as numbers for the engine and as canonical strings for the printed model.

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Parses a Go duration into nanoseconds; undefined when it is not one. */
export function parseDuration(s: string): number | undefined {
  const str = s.trim();
  if (str === '0') return 0;
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(str);
  if (!m) return undefined;
  let total = 0;
  for (const part of str.slice(m[1]!.length).matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += parseFloat(part[1]!) * DURATION_UNITS[part[2]!]!;
  }
  total = Math.round(total);
  return m[1] === '-' ? -total : total;
}

function trimFraction(n: number, digits: number): string {
  return n.toFixed(digits).replace(/\.?0+$/, '');
}

/** Go's time.Duration.String(): 1h0m0s, 1m30s, 1.5s, 300ms. */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  const a = Math.abs(ns);
  if (a < 1e3) return `${sign}${a}ns`;
  if (a < 1e6) return `${sign}${trimFraction(a / 1e3, 3)}µs`;
  if (a < 1e9) return `${sign}${trimFraction(a / 1e6, 6)}ms`;
  const h = Math.floor(a / 3600e9);
  const m = Math.floor((a - h * 3600e9) / 60e9);
  const s = (a - h * 3600e9 - m * 60e9) / 1e9;
  const sec = `${trimFraction(s, 9)}s`;
  if (h > 0) return `${sign}${h}h${m}m${sec}`;
  if (m > 0) return `${sign}${m}m${sec}`;
  return `${sign}${sec}`;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Parses a size like docker's RAMInBytes: binary multiples, case-insensitive, optional b/ib. */
export function parseBytes(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(v);
  if (!m) return undefined;
  if (m[2] === '' && m[3] !== undefined && m[3].toLowerCase() === 'ib') return undefined;
  return Math.floor(parseFloat(m[1]!) * BYTE_UNITS[m[2]!.toLowerCase()]!);
}
