// Picks the backend for this host (or for a tree at `root`, e.g. a fake one in tests).
import fs from 'node:fs';
import { readOptional } from './fsio.js';
import { chooseLayout, parseMountinfo } from './mountinfo.js';
import type { CgroupManager } from './types.js';
import { CgroupV1, scanV1Root } from './v1.js';
import { CgroupV2 } from './v2.js';

export interface DetectOptions {
  /** A directory laid out like /sys/fs/cgroup; skips mountinfo. */
  root?: string;
  /** mountinfo text to use instead of /proc/self/mountinfo. */
  mountinfo?: string;
}

const controllersAt = (dir: string): string[] =>
  (readOptional(`${dir}/cgroup.controllers`) ?? '').split(/\s+/).filter(Boolean);

export function detectCgroups(opts: DetectOptions = {}): CgroupManager {
  if (opts.root !== undefined) return detectInTree(opts.root);
  const text = opts.mountinfo ?? fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const layout = chooseLayout(parseMountinfo(text), controllersAt);
  return layout.version === 2 ? new CgroupV2(layout.root) : new CgroupV1({ mounts: layout.mounts });
}

function detectInTree(root: string): CgroupManager {
  if (controllersAt(root).length) return new CgroupV2(root);
  const mounts = scanV1Root(root);
  if (mounts['memory'] ?? mounts['cpu']) return new CgroupV1({ mounts });
  if (fs.existsSync(`${root}/cgroup.controllers`)) return new CgroupV2(root);
  throw new Error(`no cgroup hierarchy under ${root}: no cgroup.controllers and no v1 controller directories`);
}
