// Secrets and configs as `secret …` / `config …` print them: the list rows (ID NAME [DRIVER] CREATED
// UPDATED) and the --pretty inspect text, in Docker's words and spacing. Pure: the caller passes `now`.
import type { Config, Secret } from '../../api/swarm.js';
import { humanDuration } from '../../lib/units.js';
import { compareStrings } from '../../lib/compare.js';

export type ObjectKind = 'secret' | 'config';

export const SECRET_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}';
export const CONFIG_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CreatedAt}}\t{{.UpdatedAt}}';
export const OBJECT_HEADERS = { ID: 'ID', Name: 'NAME', Driver: 'DRIVER', CreatedAt: 'CREATED', UpdatedAt: 'UPDATED', Labels: 'LABELS' };

export interface ObjectRow {
  ID: string;
  Name: string;
  Driver: string;
  CreatedAt: string;
  UpdatedAt: string;
  Labels: string;
}

const ago = (t: string, now: number): string => `${humanDuration(now - Date.parse(t))} ago`;

/** List rows sorted by name, as `secret ls` / `config ls`. */
export function objectRows(items: (Secret | Config)[], now: number): ObjectRow[] {
  return [...items]
    .sort((a, b) => compareStrings(a.Spec.Name, b.Spec.Name))
    .map((o) => ({
      ID: o.ID,
      Name: o.Spec.Name,
      Driver: ('Driver' in o.Spec ? o.Spec.Driver?.Name : undefined) ?? '',
      CreatedAt: ago(o.CreatedAt, now),
      UpdatedAt: ago(o.UpdatedAt, now),
      Labels: Object.entries(o.Spec.Labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    }));
}

/** Go's time.Time.String() of a UTC instant: "2017-03-24 08:15:09.735271783 +0000 UTC". */
export function goTime(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return iso;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} +0000 UTC`;
}

function labelLines(labels: Record<string, string> | null | undefined): string {
  const keys = Object.keys(labels ?? {}).sort(compareStrings);
  if (keys.length === 0) return '';
  return `\nLabels:${keys.map((k) => `\n - ${k}${labels![k] ? `=${labels![k]}` : ''}`).join('')}`;
}

/** `secret inspect --pretty`. */
export function prettySecret(s: Secret): string {
  return [
    `ID:              ${s.ID}`,
    `Name:              ${s.Spec.Name}${labelLines(s.Spec.Labels)}`,
    `Driver:            ${s.Spec.Driver?.Name ?? ''}`,
    `Created at:        ${goTime(s.CreatedAt)}`,
    `Updated at:        ${goTime(s.UpdatedAt)}`,
  ].join('\n');
}

/** `config inspect --pretty`: the data is shown, configs not being secret. */
export function prettyConfig(c: Config): string {
  return [
    `ID:\t\t\t${c.ID}`,
    `Name:\t\t\t${c.Spec.Name}${labelLines(c.Spec.Labels)}`,
    `Created at:            \t${goTime(c.CreatedAt)}`,
    `Updated at:            \t${goTime(c.UpdatedAt)}`,
    'Data:',
    c.Spec.Data ? Buffer.from(c.Spec.Data, 'base64').toString('utf8') : '',
  ].join('\n');
}

/** `-l key=value` (a bare key is an empty value), as Docker's ConvertKVStringsToMap. */
export function labelMap(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of items) {
    const i = l.indexOf('=');
    if (i < 0) out[l] = '';
    else out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}
