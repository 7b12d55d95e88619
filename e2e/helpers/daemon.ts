// Starts a real `tsswarm daemon` (the bundled CLI) on private dirs and socket for one test file.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const TSSWARM = join(ROOT, 'dist/tsswarm.js');
const run = promisify(execFile);

export interface TestDaemon {
  dir: string;
  host: string;
  env: NodeJS.ProcessEnv;
  proc: ChildProcess;
  /** Runs the tsswarm CLI against this daemon. */
  cli(args: string[], opts?: { input?: string }): Promise<{ stdout: string; stderr: string; code: number }>;
  stop(): Promise<void>;
}

export async function startDaemon(): Promise<TestDaemon> {
  const dir = mkdtempSync('/tmp/tsswarm-test-');
  const sock = join(dir, 'tsswarm.sock');
  const host = `unix://${sock}`;
  // Each test daemon gets its own bridge/nftables names and removes them when stopped, so
  // concurrent test daemons never share or leave kernel objects.
  // These come after process.env: an exported TSSWARM_NET_PREFIX would otherwise make every test
  // daemon share one nftables table and bridge names.
  const env = {
    ...process.env,
    TSSWARM_NET_PREFIX: `t${randomBytes(2).toString('hex').slice(0, 3)}`,
    TSSWARM_TEARDOWN: '1',
    TSSWARM_HOST: host,
    TSSWARM_NO_AUTOSTART: '1',
  };
  const proc = spawn(process.execPath, [TSSWARM, 'daemon', '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--host', host], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}: ${log}`);
    if (await ping(sock)) break;
    if (Date.now() > deadline) throw new Error(`daemon did not answer within 20 s: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir,
    host,
    env,
    proc,
    cli: (args, opts) => runCli(args, env, opts),
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value; bounded by a count, not by asserting on time. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, tries = 300, everyMs = 100): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Runs the bundled tsswarm CLI; never throws on a non-zero exit. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { input?: string } = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    // `--`: Node 20 would otherwise read a --env-file meant for the CLI as its own option.
    const p = run(process.execPath, ['--', TSSWARM, ...args], { env, maxBuffer: 64 << 20 });
    p.child.stdin?.end(opts.input ?? '');
    const { stdout, stderr } = await p;
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}

/** Whether a daemon answers `/_ping` on the socket (false while it is not listening). */
export function ping(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: sock, path: '/_ping' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
}
