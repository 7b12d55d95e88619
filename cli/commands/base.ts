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
