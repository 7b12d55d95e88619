// cgroup v1 backend: one directory per hierarchy (memory, cpu, cpuacct, cpuset, pids, freezer), which
// may be co-mounted (cpu,cpuacct) so hierarchies, not controllers, are the unit of mkdir and join.
import fs from 'node:fs';
import path from 'node:path';
import {
  errnoCode, makeDir, readFile, readOptional, removeDir, sleep, subtreeDeepestFirst, waitFor, writeFile,
  type CgroupDirOps,
} from './fsio.js';
import { makeLeafGroup, parentOf, undoMadeGroups } from './create-group.js';
import { V1_CONTROLLERS } from './mountinfo.js';
import { buildV1Stats, parseLimitValue, parseV1OomKills, type V1StatFiles } from './stats-parse.js';
import { pidsIn, teardownGroups } from './teardown.js';
import { CgroupError, type CgroupManager, type CgroupResources, type CgroupStats } from './types.js';
import { toV1Writes, type V1Controller, type V1Writes } from './v1-files.js';
import { normaliseGroupPath, validateResources } from './validate.js';

// devices: the container must be in a devices group for linux.resources.devices to mean anything.
export const DEFAULT_V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'devices'];

export interface CgroupV1Options {
  /** Directory holding one sub-directory per hierarchy ("memory", "cpu,cpuacct", …). */
  root?: string;
  /** Controller → mount point, e.g. from mountinfo; takes precedence over root. */
  mounts?: Record<string, string>;
  /** Controllers whose hierarchies a group is created in. */
  controllers?: string[];
  /** Seam for a fake kernel in tests. */
  ops?: Partial<CgroupDirOps>;
  timeoutMs?: number;
}

interface Hierarchy {
  mount: string;
  controllers: string[];
}

/** Controller → directory for a tree laid out like /sys/fs/cgroup (co-mounts named "cpu,cpuacct"). */
export function scanV1Root(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ent of fs.readdirSync(root, { withFileTypes: true })) {
    if (!ent.isDirectory() && !ent.isSymbolicLink()) continue;
    for (const c of ent.name.split(',')) {
      if (!V1_CONTROLLERS.has(c)) continue;
      // An exact name ("cpu" symlink) beats a co-mount name; both resolve to one hierarchy below.
      if (out[c] === undefined || ent.name === c) out[c] = path.join(root, ent.name);
    }
  }
  return out;
}

/** Groups controllers by the hierarchy they live in, so co-mounted ones share a directory. */
function buildHierarchies(mounts: Record<string, string>, wanted: string[]): Hierarchy[] {
  const byReal = new Map<string, Hierarchy>();
  for (const c of wanted) {
    const m = mounts[c];
    if (m === undefined) continue;
    const real = fs.realpathSync(m);
    const h = byReal.get(real) ?? { mount: real, controllers: [] };
    h.controllers.push(c);
    byReal.set(real, h);
  }
  return [...byReal.values()];
}

export class CgroupV1 implements CgroupManager {
  readonly version = 1 as const;
  private readonly hierarchies: Hierarchy[];
  private readonly byController = new Map<string, Hierarchy>();
  /** Parent directories already made ready in this process (cpuset filled, clone_children set). */
  private readonly prepared = new Set<string>();
  private memswPresent: boolean | undefined;
  private readonly rmdir: CgroupDirOps['removeDir'];
  private readonly mkdir: CgroupDirOps['makeDir'];
  private readonly write: NonNullable<CgroupDirOps['writeFile']>;
  private readonly timeoutMs: number;

  constructor(rootOrOptions: string | CgroupV1Options = '/sys/fs/cgroup') {
    const opts = typeof rootOrOptions === 'string' ? { root: rootOrOptions } : rootOrOptions;
    const mounts = opts.mounts ?? scanV1Root(opts.root ?? '/sys/fs/cgroup');
    this.hierarchies = buildHierarchies(mounts, opts.controllers ?? DEFAULT_V1_CONTROLLERS);
    if (this.hierarchies.length === 0) {
      throw new Error(`cgroup v1: none of the controllers ${(opts.controllers ?? DEFAULT_V1_CONTROLLERS).join(', ')} is mounted`);
    }
    for (const h of this.hierarchies) for (const c of h.controllers) this.byController.set(c, h);
    this.rmdir = opts.ops?.removeDir ?? removeDir;
    this.mkdir = opts.ops?.makeDir ?? makeDir;
    this.write = opts.ops?.writeFile ?? writeFile;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Mount point of each hierarchy in use, keyed by controller (for diagnostics and tests). */
  get mounts(): Record<string, string> {
    return Object.fromEntries([...this.byController].map(([c, h]) => [c, h.mount]));
  }

  async create(groupPath: string, resources: CgroupResources): Promise<void> {
    const rel = normaliseGroupPath(groupPath);
    validateResources(resources);
    // A fresh group's memory limit is unlimited, so no read is needed to order the memory writes.
    const writes = toV1Writes(resources, { memsw: this.memsw(), currentMemoryLimit: Infinity });
    this.requireControllers(writes);
    const made: string[] = [];
    try {
      for (const h of this.hierarchies) this.makeGroup(h, rel, made);
      this.apply(rel, writes);
    } catch (e) {
      undoMadeGroups(made, this.prepared, this.rmdir);
      throw e;
    }
  }

  procsFiles(groupPath: string): string[] {
    const rel = normaliseGroupPath(groupPath);
    return this.hierarchies.map((h) => `${h.mount}/${rel}/cgroup.procs`);
  }

  async addProcess(groupPath: string, pid: number): Promise<void> {
    for (const file of this.procsFiles(groupPath)) {
      writeFile(file, String(pid), `add pid ${pid} to cgroup ${groupPath}`);
    }
  }

  async update(groupPath: string, resources: CgroupResources): Promise<void> {
    const rel = normaliseGroupPath(groupPath);
    validateResources(resources);
    if (!(await this.exists(rel))) throw new Error(`update cgroup ${rel}: no such group`);
    const m = resources.memory;
    let currentMemoryLimit = Infinity;
    if (m?.limit && m.swap && this.memsw()) {
      const cur = parseLimitValue(readFile(`${this.dir('memory', rel)}/memory.limit_in_bytes`));
      currentMemoryLimit = cur === -1 ? Infinity : cur;
    }
    const writes = toV1Writes(resources, { memsw: this.memsw(), currentMemoryLimit });
    this.requireControllers(writes);
    this.apply(rel, writes);
  }

  async stats(groupPath: string): Promise<CgroupStats> {
    const rel = normaliseGroupPath(groupPath);
    if (!(await this.exists(rel))) throw new Error(`stats of cgroup ${rel}: no such group`);
    const files: V1StatFiles = {};
    const read = (controller: string, names: (keyof V1StatFiles)[]): void => {
      if (!this.byController.has(controller)) return;
      const dir = this.dir(controller, rel);
      for (const n of names) files[n] = readOptional(`${dir}/${n}`);
    };
    read('memory', ['memory.usage_in_bytes', 'memory.limit_in_bytes', 'memory.max_usage_in_bytes', 'memory.failcnt', 'memory.oom_control', 'memory.stat']);
    read('cpuacct', ['cpuacct.usage', 'cpuacct.usage_user', 'cpuacct.usage_sys']);
    if (files['cpuacct.usage_user'] === undefined) read('cpuacct', ['cpuacct.stat']);
    read('cpu', ['cpu.stat']);
    read('pids', ['pids.current', 'pids.max']);
    return buildV1Stats(files);
  }

  async freeze(groupPath: string): Promise<void> {
    const state = `${this.dir('freezer', normaliseGroupPath(groupPath))}/freezer.state`;
    const start = performance.now();
    // As runc: keep re-asserting FROZEN; a task stuck in an uninterruptible sleep can leave the group
    // in FREEZING, and a brief thaw now and then lets it reach a freezable point.
    for (let i = 0; ; i++) {
      if (i % 50 === 49) {
        writeFile(state, 'THAWED', `freeze cgroup ${groupPath}`);
        await sleep(10);
      }
      writeFile(state, 'FROZEN', `freeze cgroup ${groupPath}`);
      if (readFile(state).trim() === 'FROZEN') return;
      if (performance.now() - start > this.timeoutMs) {
        writeFile(state, 'THAWED', `undo freeze of cgroup ${groupPath}`);
        throw new Error(`freeze cgroup ${groupPath}: still ${readFile(state).trim()} after ${this.timeoutMs} ms`);
      }
      await sleep(Math.min(1 + i, 10));
    }
  }

  async thaw(groupPath: string): Promise<void> {
    const state = `${this.dir('freezer', normaliseGroupPath(groupPath))}/freezer.state`;
    writeFile(state, 'THAWED', `thaw cgroup ${groupPath}`);
    await waitFor(`cgroup ${groupPath} to thaw`, () => readFile(state).trim() === 'THAWED', this.timeoutMs);
  }

  async pids(groupPath: string): Promise<number[]> {
    const dir = `${this.primary().mount}/${normaliseGroupPath(groupPath)}`;
    return [...new Set(pidsIn(subtreeDeepestFirst(dir)))].sort((a, b) => a - b);
  }

  async oomKills(groupPath: string): Promise<number> {
    if (!this.byController.has('memory')) return 0;
    return parseV1OomKills(readOptional(`${this.dir('memory', normaliseGroupPath(groupPath))}/memory.oom_control`));
  }

  async destroy(groupPath: string): Promise<void> {
    const rel = normaliseGroupPath(groupPath);
    const freezer = this.byController.has('freezer') ? `${this.dir('freezer', rel)}/freezer.state` : undefined;
    await teardownGroups(
      this.hierarchies.map((h) => `${h.mount}/${rel}`),
      {
        // v1 holds SIGKILL for frozen tasks until they thaw.
        beforeKill: () => {
          if (freezer === undefined) return;
          try {
            writeFile(freezer, 'THAWED', `destroy cgroup ${rel}`);
          } catch (e) {
            if (errnoCode(e) !== 'ENOENT') throw e;
          }
        },
        removeDir: this.rmdir,
        timeoutMs: this.timeoutMs,
      },
    );
  }

  async exists(groupPath: string): Promise<boolean> {
    return fs.existsSync(`${this.primary().mount}/${normaliseGroupPath(groupPath)}`);
  }

  private primary(): Hierarchy {
    return this.byController.get('memory') ?? this.byController.get('pids') ?? this.hierarchies[0]!;
  }

  private dir(controller: string, rel: string): string {
    const h = this.byController.get(controller);
    if (!h) throw new Error(`cgroup v1: the ${controller} controller is not in use on this host`);
    return `${h.mount}/${rel}`;
  }

  private memsw(): boolean {
    const mem = this.byController.get('memory');
    this.memswPresent ??= mem !== undefined && fs.existsSync(`${mem.mount}/memory.memsw.limit_in_bytes`);
    return this.memswPresent;
  }

  private requireControllers(writes: V1Writes): void {
    for (const [c, list] of Object.entries(writes) as [V1Controller, V1Writes[V1Controller]][]) {
      if (!this.byController.has(c) && list?.[0]) {
        throw new CgroupError(list[0].field, `the ${c} controller is not mounted on this host`);
      }
    }
  }

  private apply(rel: string, writes: V1Writes): void {
    for (const [c, list] of Object.entries(writes) as [V1Controller, V1Writes[V1Controller]][]) {
      const dir = this.dir(c, rel);
      for (const w of list ?? []) this.write(`${dir}/${w.file}`, w.value, w.field);
    }
  }

  private makeGroup(h: Hierarchy, rel: string, made: string[]): void {
    const leaf = `${h.mount}/${rel}`;
    const parentRel = parentOf(rel);
    const created = makeLeafGroup(h.mount, rel, this.prepared, this.mkdir, () => this.prepareParents(h, parentRel, made));
    if (created) made.push(leaf);
    // Parents we prepare have clone_children set, so a new child inherits cpus/mems; the root and
    // pre-existing groups get an explicit copy (an empty cpuset cannot take processes).
    if (h.controllers.includes('cpuset') && (!created || parentRel === '')) fillCpuset(leaf);
  }

  private prepareParents(h: Hierarchy, parentRel: string, made: string[]): void {
    if (parentRel === '') return;
    const abs = `${h.mount}/${parentRel}`;
    if (this.prepared.has(abs)) return;
    this.prepareParents(h, parentOf(parentRel), made);
    if (this.mkdir(abs)) made.push(abs);
    if (h.controllers.includes('cpuset')) {
      fillCpuset(abs);
      writeFile(`${abs}/cgroup.clone_children`, '1', 'prepare cpuset parent');
    }
    this.prepared.add(abs);
  }
}

/** Copies cpuset.cpus/mems from the parent where empty. */
function fillCpuset(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    if (readFile(`${dir}/${f}`).trim() !== '') continue;
    const v = readFile(`${path.dirname(dir)}/${f}`).trim();
    writeFile(`${dir}/${f}`, v, `initialise ${f} from parent`);
  }
}
