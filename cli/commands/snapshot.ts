// `tsswarm update | commit | diff | export | import`: the container verbs of issue 13.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { FlagError } from '../../lib/flags.js';
import { parseCpus, parseRestart, sizeFlag } from '../run-flags.js';
import { body, bool, client, eachArg, enc, list, needArgs, parse, str } from './common.js';

export async function update(argv: string[]): Promise<number> {
  const usage = 'tsswarm update [OPTIONS] CONTAINER [CONTAINER...]';
  const p = parse(argv, usage, [
    { name: 'memory', short: 'm', type: 'string', description: 'Memory limit' },
    { name: 'memory-swap', type: 'string', description: "Swap limit equal to memory plus swap: -1 to enable unlimited swap" },
    { name: 'memory-reservation', type: 'string', description: 'Memory soft limit' },
    { name: 'cpus', type: 'string', description: 'Number of CPUs' },
    { name: 'cpu-shares', short: 'c', type: 'int', description: 'CPU shares (relative weight)' },
    { name: 'cpu-quota', type: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpu-period', type: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpuset-cpus', type: 'string', description: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'pids-limit', type: 'int', description: 'Tune container pids limit (set -1 for unlimited)' },
    { name: 'restart', type: 'string', description: 'Restart policy to apply when a container exits' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'update', usage);
  const b: Record<string, unknown> = {};
  const mem = str(p, 'memory');
  if (mem !== undefined) b.Memory = sizeFlag(mem, '-m, --memory');
  const swap = str(p, 'memory-swap');
  if (swap !== undefined) b.MemorySwap = swap === '-1' ? -1 : sizeFlag(swap, '--memory-swap');
  const res = str(p, 'memory-reservation');
  if (res !== undefined) b.MemoryReservation = sizeFlag(res, '--memory-reservation');
  const cpus = str(p, 'cpus');
  if (cpus !== undefined) b.NanoCpus = parseCpus(cpus);
  for (const [flag, key] of [['cpu-shares', 'CpuShares'], ['cpu-quota', 'CpuQuota'], ['cpu-period', 'CpuPeriod'], ['pids-limit', 'PidsLimit']] as const) {
    if (typeof p.flags[flag] === 'number') b[key] = p.flags[flag];
  }
  const cpuset = str(p, 'cpuset-cpus');
  if (cpuset !== undefined) b.CpusetCpus = cpuset;
  const restart = str(p, 'restart');
  if (restart !== undefined) b.RestartPolicy = parseRestart(restart);
  if (Object.keys(b).length === 0) throw new FlagError('you must provide one or more flags when using this command');
  const c = client();
  return eachArg(p.args, async (a) => {
    await c.call(`/containers/${enc(a)}/update`, { method: 'POST', body: b });
    return a;
  });
}

const changeFlag = { name: 'change', short: 'c', type: 'list' as const, description: 'Apply Dockerfile instruction to the created image' };
const messageFlag = { name: 'message', short: 'm', type: 'string' as const, description: 'Commit message' };

/** "repo[:tag]" as Docker's CLI splits it (a ":" after the last "/" starts the tag). */
function splitRef(ref: string | undefined): { repo?: string; tag?: string } {
  if (!ref) return {};
  const i = ref.lastIndexOf(':');
  if (i > ref.lastIndexOf('/')) return { repo: ref.slice(0, i), tag: ref.slice(i + 1) };
  return { repo: ref };
}

export async function commit(argv: string[]): Promise<number> {
  const usage = 'tsswarm commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]';
  const p = parse(argv, usage, [
    { name: 'author', short: 'a', type: 'string', description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    changeFlag,
    messageFlag,
    { name: 'pause', short: 'p', type: 'bool', description: 'Pause container during commit (default true)' },
    { name: 'no-pause', type: 'bool', description: 'Do not pause the container during commit' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'commit', usage);
  if (p.args.length > 2) throw new FlagError(`"commit" requires at most 2 arguments (usage: ${usage})`);
  const { repo, tag } = splitRef(p.args[1]);
  const r = await client().call<{ Id: string }>('/commit', {
    method: 'POST',
    query: { container: p.args[0], repo, tag, author: str(p, 'author'), comment: str(p, 'message'), changes: list(p, 'change').join('\n') || undefined, pause: bool(p, 'no-pause') ? 0 : 1 },
  });
  process.stdout.write(`${r.Id}\n`);
  return 0;
}

export async function diff(argv: string[]): Promise<number> {
  const usage = 'tsswarm diff CONTAINER';
  const p = parse(argv, usage, []);
  if (!p) return 0;
  needArgs(p, 1, 'diff', usage);
  const changes = await client().call<Array<{ Path: string; Kind: 0 | 1 | 2 }> | null>(`/containers/${enc(p.args[0]!)}/changes`);
  for (const ch of changes ?? []) process.stdout.write(`${'CAD'[ch.Kind]} ${ch.Path}\n`);
  return 0;
}

export async function exportCmd(argv: string[]): Promise<number> {
  const usage = 'tsswarm export [OPTIONS] CONTAINER';
  const p = parse(argv, usage, [{ name: 'output', short: 'o', type: 'string', description: 'Write to a file, instead of STDOUT' }]);
  if (!p) return 0;
  needArgs(p, 1, 'export', usage);
  const out = str(p, 'output');
  if (!out && process.stdout.isTTY) throw new FlagError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await client().raw(`/containers/${enc(p.args[0]!)}/export`);
  if ((res.statusCode ?? 0) >= 400) await body(res);
  await pipeline(res, out ? createWriteStream(out) : process.stdout);
  return 0;
}

export async function importCmd(argv: string[]): Promise<number> {
  const usage = 'tsswarm import [OPTIONS] file|- [REPOSITORY[:TAG]]';
  const p = parse(argv, usage, [changeFlag, messageFlag]);
  if (!p) return 0;
  needArgs(p, 1, 'import', usage);
  const src = p.args[0]!;
  if (/^https?:\/\//.test(src)) throw new FlagError(`import: URLs are not supported (${src}); download the archive and import the file`);
  const input = src === '-' ? process.stdin : createReadStream(src);
  if (src !== '-') await new Promise<void>((resolve, reject) => input.once('open', () => resolve()).once('error', (e: Error) => reject(new Error(`open ${src}: ${e.message}`))));
  const { repo, tag } = splitRef(p.args[1]);
  const res = await client().rawStream('/images/create', input, { fromSrc: '-', repo, tag, message: str(p, 'message'), changes: list(p, 'change').join('\n') || undefined });
  const text = await body(res);
  for (const line of text.split('\n').filter(Boolean)) {
    const m = JSON.parse(line) as { status?: string; error?: string };
    if (m.error) throw new Error(m.error);
    if (m.status) process.stdout.write(`${m.status}\n`);
  }
  return 0;
}
