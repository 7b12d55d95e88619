// Test harness: named test namespaces, processes inside them, and an RPC client for netd.ts.
// Everything it makes is named tsswarm-test-<run>-… and removed by `cleanup()`.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');

export function sh(cmd: string, args: readonly string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function must(cmd: string, args: readonly string[], input?: string): string {
  const r = sh(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export class TestNet {
  readonly run = randomBytes(3).toString('hex');
  private readonly namespaces: string[] = [];
  private readonly procs = new Set<ChildProcess>();
  private madeEtcNetns = false;

  ns(suffix: string): string {
    const name = `tsswarm-test-${this.run}-${suffix}`;
    must('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** Files under /etc/netns/<ns>/ are bind-mounted over /etc by `ip netns exec`. */
  etcFile(ns: string, file: string, content: string): void {
    if (!existsSync('/etc/netns')) this.madeEtcNetns = true;
    mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns}/${file}`, content);
  }

  exec(ns: string, cmd: string, args: readonly string[]): { code: number; stdout: string; stderr: string } {
    return sh('ip', ['netns', 'exec', ns, cmd, ...args]);
  }

  /** Runs probe.ts once in `ns` and returns its JSON line. */
  probe(ns: string, ...args: string[]): Record<string, unknown> {
    const r = sh('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(HERE, 'probe.ts'), ...args]);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`probe ${args.join(' ')} in ${ns}: no JSON output (exit ${r.code}): ${r.stderr}`);
    }
  }

  /** Starts a long-running process in `ns` and waits for its first stdout line. */
  async start(ns: string, args: readonly string[]): Promise<{ proc: ChildProcess; first: string; lines: AsyncIterableIterator<string> }> {
    const proc = spawn('ip', ['netns', 'exec', ns, ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
    this.procs.add(proc);
    proc.on('exit', () => this.procs.delete(proc));
    const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) throw new Error(`${args.join(' ')} in ${ns} exited before saying anything`);
    return { proc, first: first.value, lines };
  }

  async serve(ns: string, ...probeArgs: string[]): Promise<ChildProcess> {
    const { proc, first } = await this.start(ns, [process.execPath, '--import', 'tsx', join(HERE, 'probe.ts'), ...probeArgs]);
    if (!first.includes('"ready"')) throw new Error(`probe ${probeArgs.join(' ')} failed: ${first}`);
    return proc;
  }

  async netd(ns: string, opts: Record<string, unknown>): Promise<Netd> {
    const { proc, first, lines } = await this.start(ns, [process.execPath, '--import', 'tsx', join(HERE, 'netd.ts'), JSON.stringify(opts)]);
    if (!first.includes('"ready"')) throw new Error(`netd failed to start: ${first}`);
    return new Netd(proc, lines);
  }

  /** Kills what we started and deletes our namespaces (and their /etc/netns files). */
  cleanup(): void {
    for (const p of this.procs) p.kill('SIGKILL');
    for (const ns of this.namespaces.splice(0).reverse()) {
      sh('ip', ['netns', 'del', ns]);
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
    if (this.madeEtcNetns) {
      // Only if empty: another run may have put its own files there meanwhile.
      try {
        rmdirSync('/etc/netns');
      } catch {
        // Not empty or already gone.
      }
    }
  }
}

export class Netd {
  private next = 1;
  private dead = false;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<void>;

  constructor(
    readonly proc: ChildProcess,
    lines: AsyncIterableIterator<string>,
  ) {
    this.exited = new Promise((r) =>
      proc.on('exit', () => {
        this.dead = true;
        for (const w of this.waiting.values()) w.reject(new Error('netd exited'));
        this.waiting.clear();
        r();
      }),
    );
    void (async () => {
      for await (const line of { [Symbol.asyncIterator]: () => lines }) {
        const msg = JSON.parse(line) as { id: number; result?: unknown; error?: string };
        const w = this.waiting.get(msg.id);
        if (!w) continue;
        this.waiting.delete(msg.id);
        if (msg.error !== undefined) w.reject(new Error(msg.error));
        else w.resolve(msg.result);
      }
      for (const w of this.waiting.values()) w.reject(new Error('netd exited'));
    })();
  }

  call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    const id = this.next++;
    if (this.dead) return Promise.reject(new Error(`netd has exited; cannot call ${method}`));
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.stdin!.write(JSON.stringify({ id, method, args }) + '\n');
    });
  }

  async stop(): Promise<void> {
    if (this.dead) return;
    await this.call('close').catch(() => undefined);
    await this.exited;
  }
}
