// Flag parsing with --help and the error that carries an exit code: the part of common.ts that does
// not need the daemon client, so `run` (which talks to the daemon over a bare socket) can load it
// without node:http.
import { parseFlags, helpText, FlagError, type FlagSpec, type Parsed, type ParseOptions } from '../../lib/flags.js';

/** An error that carries the process exit code (Docker: 125 for run/create failures). */
export class ExitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'ExitError';
  }
}

/**
 * The exit status when stdout's or stderr's reader went away (`… | head -1`). Docker's Go CLI is killed by
 * SIGPIPE there, which a shell reports as 128+13; Node ignores SIGPIPE and sees EPIPE instead, so we end
 * quietly with the status the shell would have shown for Docker.
 */
export const BROKEN_PIPE_EXIT = 141;

/** Whether `err` is a write to a closed pipe (or to the stream Node destroyed after one). */
export function isBrokenPipe(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/**
 * Makes a broken stdout/stderr end the process quietly instead of as an unhandled 'error' event with a
 * stack trace. Other errors on the streams stay fatal, as before.
 */
export function exitQuietlyOnBrokenPipe(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr], exit: (code: number) => void = (c) => process.exit(c)): void {
  for (const s of streams) {
    s.on('error', (err: Error) => {
      if (!isBrokenPipe(err)) throw err;
      exit(BROKEN_PIPE_EXIT);
    });
  }
}

/** Writes to a stream unless it is already gone (the reader closed the pipe): output to nobody is dropped. */
export function writeIfOpen(out: NodeJS.WritableStream, data: Buffer | string): void {
  if ((out as { destroyed?: boolean }).destroyed || (out as { writableEnded?: boolean }).writableEnded) return;
  out.write(data);
}

/**
 * How an error reaches the user: what the daemon answered is printed as Docker's CLI prints it ("Error
 * response from daemon: …"); the CLI's own errors carry the program's name. By name, not instanceof, so
 * that the entry point need not load the HTTP client.
 */
export function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return name === 'DaemonError' ? `Error response from daemon: ${msg}` : `tsswarm: ${msg}`;
}

/**
 * A time as Docker's CLI prints CreatedAt (Go's time.Time.String() in local time):
 * "2026-11-23 23:04:19 +0000 UTC".
 */
export function dockerTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const zone = off === 0 ? 'UTC' : (new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '');
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${sign}${p2(Math.floor(abs / 60))}${p2(abs % 60)} ${zone}`;
}

export const HELP: FlagSpec = { name: 'help', type: 'bool', description: 'Print usage' };

/** Parses flags; returns undefined after printing help. */
export function parse(argv: string[], usage: string, specs: FlagSpec[], opts: ParseOptions = {}): Parsed | undefined {
  const p = parseFlags(argv, [...specs, HELP], opts);
  if (p.flags.help) {
    process.stdout.write(helpText(usage, specs));
    return undefined;
  }
  return p;
}

export function needArgs(p: Parsed, n: number, cmd: string, usage: string): void {
  if (p.args.length < n) {
    throw new FlagError(`"tsswarm ${cmd}" requires at least ${n} argument${n > 1 ? 's' : ''}.\nSee 'tsswarm ${cmd} --help'.\n\nUsage:  ${usage}`);
  }
}

/** `-f, --filter name=value` values grouped by name, as the Engine API's `filters` parameter takes them. */
export function parseFilters(items: string[]): Record<string, string[]> {
  const filters: Record<string, string[]> = {};
  for (const f of items) {
    const i = f.indexOf('=');
    if (i <= 0) throw new FlagError(`invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    (filters[f.slice(0, i)] ??= []).push(f.slice(i + 1));
  }
  return filters;
}

/** The `filters` query parameter, left out when there are none (as the Docker CLI sends it). */
export const filtersParam = (filters: Record<string, string[]>): string | undefined => (Object.keys(filters).length ? JSON.stringify(filters) : undefined);

export const str = (p: Parsed, k: string): string | undefined => (typeof p.flags[k] === 'string' ? (p.flags[k] as string) : undefined);
export const bool = (p: Parsed, k: string): boolean => p.flags[k] === true;
export const list = (p: Parsed, k: string): string[] => (Array.isArray(p.flags[k]) ? (p.flags[k] as string[]) : []);
