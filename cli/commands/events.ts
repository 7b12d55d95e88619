// `tsswarm events`: the daemon's event stream (GET /events), printed as Docker prints it.
import { parseTemplate, unescapeFormat } from '../../lib/format/index.js';
import { body, client, filtersParam, list, parse, parseFilters, str, writeIfOpen } from './common.js';

interface Event {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

/** RFC 3339 with nanoseconds, as Docker's default event line starts. */
function nanoTime(nano: number): string {
  const ms = Math.floor(nano / 1e6);
  const frac = String(nano % 1e9).padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

/** Docker's line: TIME TYPE ACTION ID (k=v, …) with the attributes sorted by key. */
function defaultLine(e: Event): string {
  const attrs = Object.keys(e.Actor.Attributes)
    .sort()
    .map((k) => `${k}=${e.Actor.Attributes[k]}`)
    .join(', ');
  return `${nanoTime(e.timeNano)} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs ? ` (${attrs})` : ''}`;
}

export default async function events(argv: string[]): Promise<number> {
  const usage = 'tsswarm events [OPTIONS]';
  const p = parse(argv, usage, [
    { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', description: 'Format output using a custom template' },
    { name: 'since', type: 'string', description: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', description: 'Stream events until this timestamp' },
  ]);
  if (!p) return 0;
  const fmt = str(p, 'format')?.trim();
  const tpl = fmt && fmt !== 'json' ? parseTemplate(unescapeFormat(fmt)) : undefined;
  const res = await client().raw('/events', { query: { since: str(p, 'since'), until: str(p, 'until'), filters: filtersParam(parseFilters(list(p, 'filter'))) } });
  if ((res.statusCode ?? 500) >= 300) {
    const text = await body(res);
    let msg = text.trim();
    try {
      msg = (JSON.parse(text) as { message?: string }).message ?? msg;
    } catch {
      // A plain-text error body is printed as it is.
    }
    process.stderr.write(`Error response from daemon: ${msg}\n`);
    return 1;
  }
  let buf = '';
  res.setEncoding('utf8');
  for await (const chunk of res as AsyncIterable<string>) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const e = JSON.parse(line) as Event;
      const out = fmt === 'json' ? line : tpl ? tpl.execute(e) : defaultLine(e);
      writeIfOpen(process.stdout, out + '\n');
    }
  }
  return 0;
}
