// Runs Docker's own clients (the `docker` CLI, docker-compose 1.29) against a test daemon's socket,
// with a private DOCKER_CONFIG so the user's config and credentials are never read or written.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestDaemon } from './daemon.js';

export interface ClientResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Whether `bin` is on PATH (the tests skip, saying so, where it is not). */
export function hasBinary(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function dockerEnv(d: TestDaemon): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') };
  delete env.DOCKER_BUILDKIT;
  delete env.DOCKER_CONTEXT;
  return env;
}

/** Runs `bin args` (stdin = `input`, empty by default); never throws on a non-zero exit. */
export function runClient(bin: string, args: string[], env: NodeJS.ProcessEnv, opts: { input?: string; cwd?: string } = {}): Promise<ClientResult> {
  return new Promise((resolve) => {
    const p = execFile(bin, args, { env, maxBuffer: 64 << 20, timeout: 120_000, ...(opts.cwd ? { cwd: opts.cwd } : {}) }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr), code });
    });
    p.stdin?.end(opts.input ?? '');
  });
}

/**
 * The lines of stderr that report an error: logrus's `level=error`, "Error response from daemon",
 * "ERROR:" (compose), "error …" — what Docker's clients print when the daemon's answer misleads them.
 */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /level=error|error response|^error|^ERROR|\berror (getting|removing|waiting)/i.test(l.trim()));
}

/** Runs argv on a new pty (python3's pty module), types `input` once `prompt` shows; output and exit code. */
export function runOnPty(argv: string[], env: NodeJS.ProcessEnv, prompt: string, input: string): Promise<ClientResult> {
  const driver = String.raw`
import json, os, pty, select, sys, time
spec = json.loads(sys.stdin.read())
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
out = b""; sent = False; end = time.time() + 60
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            b = os.read(fd, 4096)
        except OSError:
            break
        if not b:
            break
        out += b
    if not sent and spec["prompt"].encode() in out:
        os.write(fd, spec["input"].encode()); sent = True
_, st = os.waitpid(pid, 0)
print(json.dumps({"output": out.decode(errors="replace"), "code": os.waitstatus_to_exitcode(st)}))
`;
  return new Promise((resolve) => {
    const p = execFile('python3', ['-c', driver], { timeout: 90_000 }, (err, stdout, stderr) => {
      if (err) return resolve({ stdout: String(stdout), stderr: `${String(stderr)}${err.message}`, code: 1 });
      const r = JSON.parse(String(stdout)) as { output: string; code: number };
      resolve({ stdout: r.output, stderr: '', code: r.code });
    });
    p.stdin?.end(JSON.stringify({ argv, env, prompt, input }));
  });
}
