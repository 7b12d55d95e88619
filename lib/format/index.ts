// Docker's `--format` for list and inspect commands:
//   (none) or "table"        → the command's default table, with a header
//   "table {{.A}}\t{{.B}}"   → a custom table, header from the column names
//   "json"                   → one JSON object per line
//   "{{.A}} {{.B}}"          → the template once per row, no header
// Tables are aligned like Docker's tabwriter (min width 10, padding 3).
import { parseTemplate } from './template.js';
import { tabwrite } from './tabwriter.js';

export { parseTemplate, renderTemplate, sprintf, printValue, TemplateError, type Template, type TemplateOptions } from './template.js';
export { tabwrite, type TabwriterOptions } from './tabwriter.js';

export interface ListFormatOptions {
  /** e.g. "table {{.ID}}\t{{.Image}}\t{{.Names}}" */
  defaultTable: string;
  /** Column headers by field name ("ID" → "CONTAINER ID"); other fields get an upper-cased header. */
  headers?: Record<string, string>;
  /** `-q`: only print this field, one per line. */
  quietField?: string;
  /**
   * Docker's Go type of a row (e.g. "*formatter.ContainerContext"): when set, a field the rows lack is
   * an error naming it, as Docker's list commands fail; unset keeps the lenient <no value>.
   */
  rowType?: string;
}

const TABLE = 'table';

/** Docker lets users type `\t` and `\n` literally in --format. */
export function unescapeFormat(f: string): string {
  return f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/** "CreatedAt" → "CREATED AT", as Docker's headers read. */
export function defaultHeader(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toUpperCase();
}

/** A row whose every field reads as its column header, so one template renders both. */
function headerRow(headers: Record<string, string>): Record<string, string> {
  return new Proxy({} as Record<string, string>, {
    get: (_t, k) => (typeof k === 'string' ? (headers[k] ?? defaultHeader(k)) : undefined),
    has: () => true,
  });
}

/** Renders rows for a list command (`ps`, `images`, `volume ls`, …). */
export function formatList(format: string | undefined, rows: readonly unknown[], opts: ListFormatOptions): string {
  const f = (format ?? '').trim();
  if (f === 'json') return rows.map((r) => JSON.stringify(r) + '\n').join('');
  let tpl = f === '' ? opts.defaultTable : f;
  const isTable = tpl === TABLE || tpl.startsWith(`${TABLE} `) || tpl.startsWith(`${TABLE}\t`);
  if (tpl === TABLE) tpl = opts.defaultTable;
  if (isTable) tpl = tpl.slice(TABLE.length);
  tpl = unescapeFormat(tpl.trim());
  const t = parseTemplate(tpl, opts.rowType !== undefined ? { strictRowType: opts.rowType } : {});
  const lines: string[] = [];
  if (isTable) lines.push(t.execute(headerRow(opts.headers ?? {})));
  for (const r of rows) lines.push(t.execute(r));
  const text = lines.map((l) => l + '\n').join('');
  return isTable ? tabwrite(text) : text;
}

/**
 * Renders `inspect` output: without a format, the JSON array indented like Docker's; with `json`,
 * one compact object per line; otherwise the template once per object.
 */
export function formatInspect(format: string | undefined, items: readonly unknown[]): string {
  const f = (format ?? '').trim();
  if (f === '') return JSON.stringify(items, null, 4) + '\n';
  if (f === 'json') return items.map((i) => JSON.stringify(i) + '\n').join('');
  const t = parseTemplate(unescapeFormat(format!));
  return items.map((i) => t.execute(i) + '\n').join('');
}
