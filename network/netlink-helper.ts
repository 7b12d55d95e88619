// Runs the tsnetlink helper (network/native/tsnetlink.c): an endpoint's veth pair, addresses, links
// and default route over rtnetlink in one short process, instead of two `ip -batch` runs (one of them
// through nsenter). Argument lists are pure and built here; link.ts decides when the helper is used.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
