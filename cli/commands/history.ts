// `tsswarm history` / `tsswarm image history`: the layers of an image, newest first, as Docker prints
// them (GET /images/{name}/history).
import { formatList } from '../../lib/format/index.js';
import { humanSizeWithPrecision, timeAgo } from '../../lib/units.js';
import { DaemonError } from '../client.js';
import type { HistoryItem } from '../../api/images.js';
import { bool, client, enc, needArgs, parse, str } from './common.js';


/** go-units Ellipsis as docker history uses it: at most `max` characters, the last one "…". */
function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

export default async function history(argv: string[]): Promise<number> {
  const usage = 'tsswarm history [OPTIONS] IMAGE';
  const p = parse(argv, usage, [
    { name: 'human', short: 'H', type: 'bool', description: 'Print sizes and dates in human readable format (default true)' },
    { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only show image IDs' },
    { name: 'format', type: 'string', description: 'Format output using a custom template' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'history', usage);
  const noTrunc = bool(p, 'no-trunc');
  let items: HistoryItem[];
  try {
    items = await client().call<HistoryItem[]>(`/images/${enc(p.args[0]!)}/history`);
  } catch (e) {
    if (e instanceof DaemonError) {
      process.stderr.write(`Error response from daemon: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const now = Date.now();
  const rows = items.map((h) => {
    const createdBy = h.CreatedBy.replace(/\t/g, ' ');
    return {
      ID: h.Id === '<missing>' || noTrunc ? h.Id : h.Id.replace(/^sha256:/, '').slice(0, 12),
      CreatedSince: h.Created > 0 ? timeAgo(h.Created * 1000, now) : 'N/A',
      CreatedAt: h.Created > 0 ? new Date(h.Created * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : 'N/A',
      CreatedBy: noTrunc ? createdBy : ellipsis(createdBy, 45),
      Size: humanSizeWithPrecision(h.Size, 3),
      Comment: h.Comment,
    };
  });
  if (bool(p, 'quiet') && !str(p, 'format')) {
    process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
    return 0;
  }
  process.stdout.write(
    formatList(str(p, 'format'), rows, {
      defaultTable: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
      headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedBy: 'CREATED BY', CreatedAt: 'CREATED AT' },
      rowType: '*formatter.historyContext',
    }),
  );
  return 0;
}
