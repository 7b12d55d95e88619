// cgroup v2 backend: one unified tree; controllers must be enabled top-down in each parent's
// cgroup.subtree_control before a child gets their interface files.
import fs from 'node:fs';
import {
  errnoCode, makeDir, readFile, readOptional, removeDir, subtreeDeepestFirst, waitFor, writeFile,
  type CgroupDirOps,
} from './fsio.js';
import { makeLeafGroup, parentOf, undoMadeGroups } from './create-group.js';
import { helperAttach, type AttachDeviceProgram } from './devbpf.js';
import { deviceProgram, encodeProgram } from './devices-bpf.js';
import { buildV2Stats, parseFrozen, parseV2OomKills, type V2StatFiles } from './stats-parse.js';
import { pidsIn, teardownGroups } from './teardown.js';
import { CgroupError, type CgroupManager, type CgroupResources, type CgroupStats } from './types.js';
import { controllerOf, toV2Writes, type CgroupWrite } from './v2-files.js';
import { normaliseGroupPath, validateResources } from './validate.js';

export const DEFAULT_V2_CONTROLLERS = ['cpu', 'cpuset', 'memory', 'pids'];

export interface CgroupV2Options {
  /** The cgroup2 mount (or a delegated subtree of it). */
  root?: string;
  /** Controllers to enable for groups, where the root offers them. */
  controllers?: string[];
  /** Seam for a fake kernel in tests. */
  ops?: Partial<CgroupDirOps>;
  /** Loads and attaches a device program (default: the tsdevbpf helper); a seam for tests. */
  attachDeviceProgram?: AttachDeviceProgram;
  timeoutMs?: number;
}

export class CgroupV2 implements CgroupManager {
  readonly version = 2 as const;
  readonly root: string;
  private readonly wanted: string[];
  private enabledCache: string[] | undefined;
  /** Directories whose subtree_control this process has already set. */
  private readonly prepared = new Set<string>();
  private readonly rmdir: CgroupDirOps['removeDir'];
  private readonly mkdir: CgroupDirOps['makeDir'];
  private readonly timeoutMs: number;
  private readonly attachDevices: AttachDeviceProgram;

  constructor(rootOrOptions: string | CgroupV2Options = '/sys/fs/cgroup') {
    const opts = typeof rootOrOptions === 'string' ? { root: rootOrOptions } : rootOrOptions;
    this.root = opts.root ?? '/sys/fs/cgroup';
    this.wanted = opts.controllers ?? DEFAULT_V2_CONTROLLERS;
    this.rmdir = opts.ops?.removeDir ?? removeDir;
    this.mkdir = opts.ops?.makeDir ?? makeDir;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.attachDevices = opts.attachDeviceProgram ?? helperAttach();
  }

  /** Controllers groups get: the wanted ones the root offers (read once). */
  enabledControllers(): string[] {
    if (this.enabledCache === undefined) {
      const offered = new Set(readFile(`${this.root}/cgroup.controllers`).trim().split(/\s+/));
      this.enabledCache = this.wanted.filter((c) => offered.has(c));
    }
    return this.enabledCache;
  }

  async create(groupPath: string, resources: CgroupResources): Promise<void> {
    const rel = normaliseGroupPath(groupPath);
    validateResources(resources);
    const writes = toV2Writes(resources);
    this.requireControllers(writes);
    // v2 has no devices files: the rules become an eBPF program, built before anything is made.
    const program = resources.devices ? encodeProgram(deviceProgram(resources.devices)) : undefined;
    const leaf = `${this.root}/${rel}`;
    const made: string[] = [];
    try {
      const parentRel = parentOf(rel);
      const created = makeLeafGroup(this.root, rel, this.prepared, this.mkdir, () => this.prepareParents(parentRel, made));
      if (created) made.push(leaf);
      this.apply(leaf, writes);
      // Before any process joins: the driver adds the container only after create() returns.
      if (program) this.attachDevices(leaf, program);
    } catch (e) {
      undoMadeGroups(made, this.prepared, this.rmdir);
      throw e;
    }
  }

  procsFiles(groupPath: string): string[] {
    return [`${this.root}/${normaliseGroupPath(groupPath)}/cgroup.procs`];
  }

  async addProcess(groupPath: string, pid: number): Promise<void> {
    writeFile(this.procsFiles(groupPath)[0]!, String(pid), `add pid ${pid} to cgroup ${groupPath}`);
  }

  async update(groupPath: string, resources: CgroupResources): Promise<void> {
    const rel = normaliseGroupPath(groupPath);
    validateResources(resources);
    const writes = toV2Writes(resources);
    this.requireControllers(writes);
    const program = resources.devices ? encodeProgram(deviceProgram(resources.devices)) : undefined;
    if (!(await this.exists(rel))) throw new Error(`update cgroup ${rel}: no such group`);
    this.apply(`${this.root}/${rel}`, writes);
    if (program) this.attachDevices(`${this.root}/${rel}`, program);
  }

  async stats(groupPath: string): Promise<CgroupStats> {
    const rel = normaliseGroupPath(groupPath);
    const dir = `${this.root}/${rel}`;
    if (!(await this.exists(rel))) throw new Error(`stats of cgroup ${rel}: no such group`);
    const files: V2StatFiles = {};
    const names: (keyof V2StatFiles)[] = ['memory.current', 'memory.max', 'memory.peak', 'memory.events', 'memory.stat', 'cpu.stat', 'pids.current', 'pids.max'];
    for (const n of names) files[n] = readOptional(`${dir}/${n}`);
    return buildV2Stats(files);
  }

  async freeze(groupPath: string): Promise<void> {
    await this.setFrozen(normaliseGroupPath(groupPath), true);
  }

  async thaw(groupPath: string): Promise<void> {
    await this.setFrozen(normaliseGroupPath(groupPath), false);
  }

  async pids(groupPath: string): Promise<number[]> {
    const dir = `${this.root}/${normaliseGroupPath(groupPath)}`;
    return [...new Set(pidsIn(subtreeDeepestFirst(dir)))].sort((a, b) => a - b);
  }

  async oomKills(groupPath: string): Promise<number> {
    return parseV2OomKills(readOptional(`${this.root}/${normaliseGroupPath(groupPath)}/memory.events`));
  }

  async destroy(groupPath: string): Promise<void> {
    const rel = normaliseGroupPath(groupPath);
    await teardownGroups([`${this.root}/${rel}`], {
      // cgroup.kill (5.14+) kills the whole subtree atomically, frozen or not, with no PID-reuse race;
      // older kernels fall back to the SIGKILL loop (frozen v2 tasks still die on SIGKILL).
      beforeKill: (busy) => {
        for (const dir of busy) {
          try {
            writeFile(`${dir}/cgroup.kill`, '1', `destroy cgroup ${rel}`);
          } catch (e) {
            if (errnoCode(e) !== 'ENOENT') throw e;
          }
        }
      },
      removeDir: this.rmdir,
      timeoutMs: this.timeoutMs,
    });
  }

  async exists(groupPath: string): Promise<boolean> {
    return fs.existsSync(`${this.root}/${normaliseGroupPath(groupPath)}`);
  }

  private async setFrozen(rel: string, frozen: boolean): Promise<void> {
    const dir = `${this.root}/${rel}`;
    const verb = frozen ? 'freeze' : 'thaw';
    writeFile(`${dir}/cgroup.freeze`, frozen ? '1' : '0', `${verb} cgroup ${rel}`);
    // cgroup.freeze only asks; cgroup.events says when every task has actually stopped (or resumed).
    await waitFor(
      `cgroup ${rel} to report frozen ${frozen ? 1 : 0}`,
      () => {
        const state = parseFrozen(readFile(`${dir}/cgroup.events`));
        if (state === undefined) throw new Error(`${verb} cgroup ${rel}: cgroup.events has no "frozen" key`);
        return state === frozen;
      },
      this.timeoutMs,
    );
  }

  private requireControllers(writes: CgroupWrite[]): void {
    const enabled = new Set(this.enabledControllers());
    for (const w of writes) {
      const c = controllerOf(w.file);
      if (!enabled.has(c)) {
        throw new CgroupError(w.field, `the ${c} controller is not available under ${this.root}`);
      }
    }
  }

  private apply(dir: string, writes: CgroupWrite[]): void {
    for (const w of writes) {
      try {
        writeFile(`${dir}/${w.file}`, w.value, w.field);
      } catch (e) {
        // memory.swap.max is absent when the kernel does no swap accounting; like v1's memsw, skip it.
        if (w.file === 'memory.swap.max' && errnoCode(e) === 'ENOENT' && fs.existsSync(dir)) continue;
        throw e;
      }
    }
  }

  private prepareParents(parentRel: string, made: string[]): void {
    const abs = parentRel === '' ? this.root : `${this.root}/${parentRel}`;
    if (this.prepared.has(abs)) return;
    if (parentRel !== '') {
      this.prepareParents(parentOf(parentRel), made);
      if (this.mkdir(abs)) made.push(abs);
    }
    const ctl = this.enabledControllers();
    if (ctl.length) {
      writeFile(`${abs}/cgroup.subtree_control`, ctl.map((c) => `+${c}`).join(' '), 'enable controllers');
    }
    this.prepared.add(abs);
  }
}
