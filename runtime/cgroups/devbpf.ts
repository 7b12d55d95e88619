// Runs the tsdevbpf helper (runtime/native/tsdevbpf.c), which loads a device program and attaches it
// to a cgroup v2 directory, replacing the group's previous one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CgroupError } from './types.js';

/**
 * $TSSWARM_TSDEVBPF, else the nearest tsdevbpf or dist/tsdevbpf from this module upwards: next to a
 * bundle (dist/x.js or dist/chunks/), or the repository's dist/ when running from source.
 */
export function devbpfPath(): string {
  if (process.env.TSSWARM_TSDEVBPF) return process.env.TSSWARM_TSDEVBPF;
  let dir = dirname(fileURLToPath(import.meta.url));
  const first = join(dir, '..', '..', 'dist', 'tsdevbpf');
  for (let i = 0; i < 5; i++) {
    for (const c of [join(dir, 'tsdevbpf'), join(dir, 'dist', 'tsdevbpf')]) if (existsSync(c)) return c;
    dir = dirname(dir);
  }
  return first;
}

/** Source of the helper, for builds from tests. */
export function devbpfSource(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'tsdevbpf.c');
}

export type AttachDeviceProgram = (groupDir: string, program: Buffer) => void;

/** Attaches with the helper at `helper`; a failure is a CgroupError on linux.resources.devices. */
export function helperAttach(helper: string = devbpfPath()): AttachDeviceProgram {
  return (groupDir, program) => {
    const r = spawnSync(helper, ['attach', groupDir], { input: program, encoding: 'utf8', timeout: 10_000 });
    if (r.error) {
      throw new CgroupError('linux.resources.devices', `run ${helper}: ${r.error.message}`);
    }
    if (r.status !== 0) {
      const why = r.stderr.trim() || `exit status ${r.status ?? r.signal}`;
      throw new CgroupError('linux.resources.devices', `device program for ${groupDir}: ${why}`);
    }
  };
}
