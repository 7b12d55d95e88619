// `tscompose logs` and the attached output of `up`: every container's stream, each line prefixed
// with the container's name in its own colour, like compose.
import { parseFlags, UsageError, type GlobalOptions } from './args.js';
import { Api, nameOf } from './engine.js';
import { LABELS } from '../../compose-spec/index.js';
import { checkServices, CommandError, loadForCommand } from './project.js';
import { writeIfOpen } from '../commands/base.js';

const COLOURS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

/** Splits Docker's multiplexed stream (8-byte headers: stream, 0, 0, 0, big-endian length). */
export class Demuxer {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: 'stdout' | 'stderr', data: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      this.onFrame(this.buf[0] === 2 ? 'stderr' : 'stdout', this.buf.subarray(8, 8 + size));
      this.buf = this.buf.subarray(8 + size);
    }
  }
}

/** Breaks data into whole lines per source, holding a partial line until its end arrives. */
export class LinePrefixer {
  private rest = '';
  constructor(
    private readonly prefix: string,
    private readonly write: (s: string) => void,
  ) {}
  push(data: string): void {
    const text = this.rest + data;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const l of lines) this.write(`${this.prefix}${l}\n`);
  }
  flush(): void {
    if (this.rest) this.write(`${this.prefix}${this.rest}\n`);
    this.rest = '';
  }
}

export interface LogTarget {
  id: string;
  name: string;
}

export interface FollowOptions {
  follow: boolean;
  timestamps: boolean;
  tail?: string;
  noPrefix?: boolean;
  noColour?: boolean;
  signal?: AbortSignal;
  write?: (s: string) => void;
}

export function prefixes(names: string[], colour: boolean): Map<string, string> {
  const width = Math.max(0, ...names.map((n) => n.length));
  return new Map(names.map((n, i) => [n, colour ? `\x1b[${COLOURS[i % COLOURS.length]}m${n.padEnd(width)}  |\x1b[0m ` : `${n.padEnd(width)}  | `]));
}

export async function followLogs(api: Api, targets: LogTarget[], o: FollowOptions): Promise<void> {
  const write = o.write ?? ((s: string) => writeIfOpen(process.stdout, s));
  const colour = !o.noColour && process.stdout.isTTY === true && !process.env.NO_COLOR;
  const pre = prefixes(
    targets.map((t) => t.name),
    colour,
  );
  await Promise.all(
    targets.map(async (t) => {
      const res = await api.client.raw(`/containers/${t.id}/logs`, {
        query: { stdout: 1, stderr: 1, follow: o.follow ? 1 : undefined, timestamps: o.timestamps ? 1 : undefined, tail: o.tail },
      });
      if ((res.statusCode ?? 0) >= 400) {
        let text = '';
        for await (const c of res) text += (c as Buffer).toString();
        throw new CommandError(`logs of ${t.name}: ${text.trim()}`);
      }
      const lines = new LinePrefixer(o.noPrefix ? '' : pre.get(t.name)!, write);
      const demux = new Demuxer((_s, d) => lines.push(d.toString('utf8')));
      const onAbort = (): void => void res.destroy();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const chunk of res) demux.push(chunk as Buffer);
      } catch {
        // Aborted or the daemon went away: what arrived was printed.
      } finally {
        o.signal?.removeEventListener('abort', onAbort);
        lines.flush();
      }
    }),
  );
}

const FLAGS = {
  follow: { names: ['-f', '--follow'], value: false },
  tail: { names: ['-n', '--tail'], value: true },
  timestamps: { names: ['-t', '--timestamps'], value: false },
  noPrefix: { names: ['--no-log-prefix'], value: false },
  noColor: { names: ['--no-color'], value: false },
  index: { names: ['--index'], value: true },
  help: { names: ['-h', '--help'], value: false },
};

export async function logsCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const { parsed } = parseFlags(argv, FLAGS, false);
  if (parsed.values.has('help')) {
    process.stdout.write('Usage: tscompose logs [OPTIONS] [SERVICE...]\n\nView output from containers.\n\n  -f, --follow  -n, --tail N  -t, --timestamps  --no-log-prefix  --no-color  --index N\n');
    return 0;
  }
  const tail = parsed.values.get('tail')?.at(-1);
  if (tail !== undefined && tail !== 'all' && !/^\d+$/.test(tail)) throw new UsageError(`invalid --tail "${tail}": expected a number or all`);
  const { project } = loadForCommand(global);
  checkServices(project, parsed.positional);
  const api = new Api();
  const index = parsed.values.get('index')?.at(-1);
  const list = (await api.containers(project.name))
    .filter((c) => parsed.positional.length === 0 || parsed.positional.includes(c.Labels[LABELS.service] ?? ''))
    .filter((c) => index === undefined || c.Labels[LABELS.containerNumber] === index)
    .sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  await followLogs(
    api,
    list.map((c) => ({ id: c.Id, name: nameOf(c) })),
    {
      follow: parsed.values.has('follow'),
      timestamps: parsed.values.has('timestamps'),
      ...(tail !== undefined ? { tail } : {}),
      noPrefix: parsed.values.has('noPrefix'),
      noColour: parsed.values.has('noColor'),
      signal: ac.signal,
    },
  );
  process.off('SIGINT', stop);
  return 0;
}
