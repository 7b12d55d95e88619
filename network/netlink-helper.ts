// Drives the tsnetlink helper (network/native/tsnetlink.c): an endpoint's veth pair, addresses, links
// and default route over rtnetlink, instead of two `ip -batch` runs (one of them through nsenter). One
// long-lived `tsnetlink serve` per process takes the requests, so an endpoint costs no fork of this
// (large) process at all. Argument lists are pure and built here; link.ts decides when it is used.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../lib/log.js';

const log = createLogger('network.tsnetlink');

export class HelperError extends Error {
  override name = 'HelperError';
}

/**
 * $TSSWARM_TSNETLINK ("off": never use the helper, for comparisons and as an escape hatch), else the
 * nearest tsnetlink or dist/tsnetlink from this module upwards (next to a bundle in dist/ or
 * dist/chunks/, or the repository's dist/ from source). Undefined when there is none: callers fall back
 * to `ip`.
 */
export function netlinkHelperPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const set = env.TSSWARM_TSNETLINK;
  if (set === 'off') return undefined;
  if (set) return set;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    for (const c of [join(dir, 'tsnetlink'), join(dir, 'dist', 'tsnetlink')]) if (existsSync(c)) return c;
    dir = dirname(dir);
  }
  return undefined;
}

/** Source of the helper, for builds from tests. */
export function netlinkHelperSource(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'native', 'tsnetlink.c');
}

export interface VethArgs {
  hostIf: string;
  bridge: string;
  netnsPath: string;
  ifname: string;
  mac: string;
  ip: string;
  prefix: number;
  gateway?: string;
  mtu?: number;
}

function hostNs(hostNetns: string | undefined): string[] {
  return hostNetns ? ['--host-netns', hostNetns] : [];
}

export function vethArgs(a: VethArgs, hostNetns?: string): string[] {
  return [...hostNs(hostNetns), 'veth', a.hostIf, a.bridge, a.netnsPath, a.ifname, a.mac, `${a.ip}/${a.prefix}`, a.gateway ?? '-', String(a.mtu ?? 0)];
}

export function delArgs(name: string, hostNetns?: string): string[] {
  return [...hostNs(hostNetns), 'del', name];
}

/** An endpoint's host end: off the bridge and down at once, deleted in the background (serve). */
export function releaseArgs(name: string, hostNetns?: string): string[] {
  return [...hostNs(hostNetns), 'release', name];
}

/** Runs the helper; rejects with its one-line message (which names the step, link and netlink error). */
export function runHelper(helper: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(helper, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new HelperError(`cannot run ${helper}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const text = Buffer.concat(err).toString().trim().replace(/^tsnetlink: /, '');
      reject(new HelperError(text || `${helper} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

/** A stream whose handle can stop keeping the event loop alive (pipes are net.Sockets underneath). */
type Refable = { ref?(): unknown; unref?(): unknown };

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * One `tsnetlink serve` child answering requests in order, one line each ("ok" / "err MESSAGE").
 * Started on first use and again after it died; while idle it does not keep the process alive.
 */
export class NetlinkServer {
  private child: ChildProcess | undefined;
  private out = '';
  private stderr = '';
  private readonly pending: Pending[] = [];

  constructor(readonly helper: string) {}

  /** The child's pid while one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  request(args: readonly string[]): Promise<void> {
    // The wire is tab-separated lines: an argument holding either would be split into others.
    const bad = args.find((a) => a === '' || /[\t\n]/.test(a));
    if (bad !== undefined) return Promise.reject(new HelperError(`argument ${JSON.stringify(bad)} cannot be passed to tsnetlink (empty, or a tab or newline in it)`));
    const child = this.start();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.hold(true);
      child.stdin!.write(args.join('\t') + '\n');
    });
  }

  /** Lets the child go (it exits at the end of its input). */
  close(): void {
    this.child?.stdin?.end();
    this.child = undefined;
  }

  private start(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(this.helper, ['serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.out = '';
    this.stderr = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      this.out += text;
      for (let nl = this.out.indexOf('\n'); nl >= 0; nl = this.out.indexOf('\n')) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        const p = this.pending.shift();
        if (!p) continue;
        if (line === 'ok') p.resolve();
        else p.reject(new HelperError(line.startsWith('err ') ? line.slice(4) : `unexpected answer from ${this.helper}: ${JSON.stringify(line)}`));
      }
      if (this.pending.length === 0) this.hold(false);
    });
    // Background deletes report here (nobody awaits them); the tail also explains a crash.
    child.stderr!.on('data', (b: Buffer) => {
      const text = b.toString();
      this.stderr = (this.stderr + text).slice(-2000);
      for (const line of text.split('\n')) if (line.trim()) log.warn(line.replace(/^tsnetlink: /, ''), { helper: this.helper });
    });
    // A write to a child that just died fails with EPIPE; its exit below rejects the request.
    child.stdin!.on('error', () => undefined);
    const gone = (why: string): void => {
      if (this.child === child) this.child = undefined;
      const err = new HelperError(`${this.helper} serve ${why}${this.stderr.trim() ? `: ${this.stderr.trim()}` : ''}`);
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    child.on('error', (e) => gone(`could not run: ${e.message}`));
    child.on('exit', (code, signal) => gone(`exited (${signal ?? `status ${code}`})`));
    this.hold(false);
    return child;
  }

  /** Keeps the event loop alive only while a request waits for its answer. */
  private hold(on: boolean): void {
    const c = this.child;
    if (!c) return;
    for (const h of [c, c.stdin, c.stdout, c.stderr] as Refable[]) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }
}

const servers = new Map<string, NetlinkServer>();

/** The shared server for a helper binary. */
export function netlinkServer(helper: string): NetlinkServer {
  let s = servers.get(helper);
  if (!s) servers.set(helper, (s = new NetlinkServer(helper)));
  return s;
}
