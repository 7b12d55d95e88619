// A task's secrets and configs on the node: one small tmpfs per task under the exec root, so secret
// bytes live only in memory, never on the node's disk; each file is written with the uid, gid and mode
// the service asks for and bound read-only into the container. Released (unmounted) when the task's
// container goes.
import { execFile } from 'node:child_process';
import { chown, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { TaskFile } from './container-body.js';

const run = promisify(execFile);

export interface FileItem {
  /** secret or config, and its name: the file name inside the task's tmpfs. */
  kind: 'secret' | 'config';
  name: string;
  /** Path in the container (absolute). */
  target: string;
  data: Buffer;
  uid: number;
  gid: number;
  mode: number;
}

export class TaskFiles {
  constructor(private readonly root: string) {}

  private dir(taskId: string): string {
    return join(this.root, taskId);
  }

  /** Mounts the task's tmpfs (once) and writes its files; returns the binds for its container. */
  async materialise(taskId: string, items: readonly FileItem[]): Promise<TaskFile[]> {
    if (items.length === 0) return [];
    const dir = this.dir(taskId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!(await isMountPoint(dir))) {
      const size = items.reduce((n, i) => n + i.data.length + 4096, 64 * 1024);
      await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0711,nosuid,nodev,noexec`, `tsswarm-task-${taskId.slice(0, 12)}`, dir]);
    }
    const out: TaskFile[] = [];
    for (const i of items) {
      const file = join(dir, i.kind, i.name);
      await mkdir(dirname(file), { recursive: true, mode: 0o711 });
      await writeFile(file, i.data, { mode: i.mode });
      await chown(file, i.uid, i.gid);
      out.push({ source: file, target: i.target });
    }
    return out;
  }

  async release(taskId: string): Promise<void> {
    const dir = this.dir(taskId);
    if (await isMountPoint(dir)) await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
    await rm(dir, { recursive: true, force: true });
  }

  /** Tasks that still have files here (after a daemon restart). */
  async present(): Promise<string[]> {
    try {
      return await readdir(this.root);
    } catch {
      return [];
    }
  }
}

async function isMountPoint(dir: string): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  return mounts.split('\n').some((l) => l.split(' ')[1] === dir);
}
