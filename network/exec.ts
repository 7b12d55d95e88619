// Runs the kernel tools (ip, nft, sysctl) with a script on stdin, optionally inside a network
// namespace given by path. Every kernel change in network/ funnels through here.

import { spawn } from 'node:child_process';

export class CommandError extends Error {
  override name = 'CommandError';
  constructor(
    message: string,
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

export interface RunOptions {
  /** Script fed on stdin (for `ip -batch -`, `nft -f -`). */
  input?: string;
  /** Network namespace to run in, as a path (/run/netns/NAME, /proc/PID/ns/net). */
  netns?: string;
}

export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const [file, argv] = opts.netns ? ['nsenter', [`--net=${opts.netns}`, '--', cmd, ...args]] : [cmd, [...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new CommandError(`cannot run ${cmd}: ${e.message}`, '', null)));
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString().trim();
      if (code === 0) return resolve(Buffer.concat(out).toString());
      const where = opts.netns ? ` in netns ${opts.netns}` : '';
      reject(new CommandError(`${cmd} ${args.join(' ')}${where} failed (exit ${code}): ${stderr || '(no output)'}`, stderr, code));
    });
    // EPIPE when the tool exits early is reported through 'close' with its own stderr.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Applies an `ip -batch` script; the batch stops at the first failing line. */
export function ipBatch(script: string, netns?: string): Promise<string> {
  return run('ip', ['-batch', '-'], { input: script, netns });
}

/** Applies an nft script as one atomic transaction. */
export function nftApply(script: string, netns?: string): Promise<string> {
  return run('nft', ['-f', '-'], { input: script, netns });
}

/** Sets sysctls (key=value) in the given netns in one exec; /proc/sys/net is per namespace. */
export async function sysctl(settings: Record<string, string>, netns?: string): Promise<void> {
  const entries = Object.entries(settings);
  if (entries.length === 0) return;
  await run('sysctl', ['-q', ...entries.map(([k, v]) => `${k}=${v}`)], { netns });
}
