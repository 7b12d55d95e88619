// The `local` volume driver: a volume is the directory `<root>/<name>/_data` (dockerd's layout).
//
// Copy-up uses one `cp -a SRC/. DST` spawn rather than fs.cp: cp -a keeps owners (fs.cp does not),
// modes, timestamps, symlinks as links, hard links as links, FIFOs and device nodes (fs.cp refuses
// those), and gives the volume root the source directory's owner and mode as Docker does.
import { execFile } from 'node:child_process';
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export type CopyTree = (src: string, dst: string) => Promise<void>;

export const cpA: CopyTree = (src, dst) =>
  new Promise((resolve, reject) => {
    execFile('cp', ['-a', '--', `${src}/.`, dst], { maxBuffer: 1 << 20 }, (err, _out, stderr) => {
      if (err) reject(new Error(`copying ${src} into the volume at ${dst} failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });

export class LocalDriver {
  constructor(
    /** `<dataRoot>/volumes` */
    readonly root: string,
    private readonly copyTree: CopyTree = cpA,
  ) {}

  volumeDir(name: string): string {
    return join(this.root, name);
  }

  mountpoint(name: string): string {
    return join(this.root, name, '_data');
  }

  async create(name: string): Promise<void> {
    await mkdir(this.volumeDir(name), { recursive: true, mode: 0o701 });
    await mkdir(this.mountpoint(name), { recursive: true, mode: 0o755 });
  }

  async exists(name: string): Promise<boolean> {
    try {
      return (await stat(this.mountpoint(name))).isDirectory();
    } catch {
      return false;
    }
  }

  async remove(name: string): Promise<void> {
    await rm(this.volumeDir(name), { recursive: true, force: true });
  }

  /** Names of the volume directories present on disk (for reconciling with records). */
  async listDirs(): Promise<string[]> {
    try {
      return (await readdir(this.root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async isEmpty(name: string): Promise<boolean> {
    return (await readdir(this.mountpoint(name))).length === 0;
  }

  /** Fills the volume from `src` if the volume is empty; returns whether it copied. */
  async copyUp(name: string, src: string): Promise<boolean> {
    try {
      if (!(await stat(src)).isDirectory()) return false;
    } catch (err) {
      // Nothing at the mount path in the image: nothing to copy, as in Docker.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    if (!(await this.isEmpty(name))) return false;
    await this.copyTree(src, this.mountpoint(name));
    return true;
  }

  /** Bytes used by the volume's files (hard-linked files counted once), as `docker system df -v`. */
  async size(name: string): Promise<number> {
    return dirSize(this.mountpoint(name));
  }
}

export async function dirSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) {
        await walk(p);
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  await walk(dir);
  return total;
}
