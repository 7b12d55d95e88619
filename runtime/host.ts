// Facts about this host and install that the driver needs: where tsbox is, how cgroups are mounted.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCgroupMounts, type HostInfo } from './plan.js';

let info: HostInfo | undefined;

export function hostInfo(): HostInfo {
  info ??= {
    cgroupMounts: parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')),
    cgroupRoot: '/sys/fs/cgroup',
    hasKcore: existsSync('/proc/kcore'),
  };
  return info;
}

/**
 * The tsbox binary: $TSSWARM_TSBOX, else the nearest tsbox or dist/tsbox from this module upwards:
 * dist/tsbox next to a bundle (dist/x.js, or a split chunk in dist/chunks/), or the repository's
 * dist/ when running from source (runtime/ -> ../dist/tsbox).
 */
export function tsboxPath(): string {
  if (process.env.TSSWARM_TSBOX) return process.env.TSSWARM_TSBOX;
  let dir = dirname(fileURLToPath(import.meta.url));
  const first = join(dir, '..', 'dist', 'tsbox');
  for (let i = 0; i < 4; i++) {
    for (const c of [join(dir, 'tsbox'), join(dir, 'dist', 'tsbox')]) if (existsSync(c)) return c;
    dir = dirname(dir);
  }
  return first;
}

/** Source of tsbox, for builds from tests (see e2e/fixtures/tsbox.ts). */
export function tsboxSource(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'native', 'tsbox.c');
}
