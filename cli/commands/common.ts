// Pieces the engine commands share: flag parsing with --help, stream demultiplexing, error exits.
import type { IncomingMessage } from 'node:http';
import { Client, DaemonError } from '../client.js';
import { errorLine, writeIfOpen } from './base.js';
import { DEFAULT_PARALLEL, inOrderBounded } from './bounded.js';

export { ExitError, BROKEN_PIPE_EXIT, errorLine, isBrokenPipe, writeIfOpen, HELP, parse, needArgs, parseFilters, filtersParam, str, bool, list } from './base.js';

/** Reads Docker's multiplexed stream and writes each frame to stdout or stderr. */
export async function demux(res: IncomingMessage, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<void> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of res) {
    buf = buf.length ? Buffer.concat([buf, chunk as Buffer]) : (chunk as Buffer);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const payload = buf.subarray(8, 8 + size);
      writeIfOpen(buf[0] === 2 ? err : out, payload);
      buf = buf.subarray(8 + size);
    }
  }
}

/** Reads a response fully; throws DaemonError on an error status. */
export async function body(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if ((res.statusCode ?? 0) >= 400) {
    let msg = text;
    try {
      msg = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // Not JSON: keep the text.
    }
    throw new DaemonError(res.statusCode ?? 0, msg);
  }
  return text;
}

/** Runs `fn` for each argument, printing the name on success and errors to stderr (Docker's multi-target commands). */
export async function eachArg(args: string[], fn: (a: string) => Promise<string | void>): Promise<number> {
  let code = 0;
  for (const a of args) {
    try {
      const out = await fn(a);
      if (out !== undefined) process.stdout.write(`${out}\n`);
    } catch (e) {
      process.stderr.write(`${errorLine(e)}\n`);
      code = 1;
    }
  }
  return code;
}

/**
 * As eachArg, but many arguments at once (Docker's CLI stops or removes a list concurrently, at most
 * DEFAULT_PARALLEL in flight); the results are printed in argument order as they come, a failure on
 * stderr, and the exit code is 1 if any failed.
 */
export async function eachArgConcurrently(args: string[], fn: (a: string) => Promise<string | void>, limit = DEFAULT_PARALLEL): Promise<number> {
  let code = 0;
  await inOrderBounded(args, limit, fn, (_a, r) => {
    if (r.ok) {
      if (r.value !== undefined) process.stdout.write(`${r.value}\n`);
    } else {
      process.stderr.write(`${errorLine(r.error)}\n`);
      code = 1;
    }
  });
  return code;
}

export const client = (): Client => new Client();
export const enc = encodeURIComponent;

export type Sub = Record<string, (a: string[]) => Promise<number>>;

/** A command with subcommands (`tsswarm network ls`, `tsswarm node ls` …): dispatch, or its usage. */
export function group(name: string, table: Sub): (argv: string[]) => Promise<number> {
  return async (argv) => {
    const [sub, ...rest] = argv;
    const fn = sub ? table[sub] : undefined;
    if (!fn) {
      (sub ? process.stderr : process.stdout).write(`Usage:  tsswarm ${name} COMMAND\n\nCommands: ${Object.keys(table).join(', ')}\n`);
      return sub ? 1 : 0;
    }
    return fn(rest);
  };
}
