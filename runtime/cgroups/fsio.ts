// Small synchronous cgroupfs primitives. Synchronous on purpose: kernfs reads, writes and mkdirs take
// microseconds and the kernel serialises cgroup changes on one mutex anyway, so a thread-pool round
// trip per file only adds latency on the container-start path (measured ~2x slower here).
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// No O_CREAT: a missing interface file must fail (ENOENT), not silently appear in a fake tree or be
// mistaken for success. O_TRUNC is ignored by kernfs but keeps fake trees honest.
const WRITE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_TRUNC;

/** An I/O failure with the file and operation in the message and the errno code kept for callers. */
export class CgroupIoError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CgroupIoError';
  }
}

export function errnoCode(e: unknown): string | undefined {
  if (e instanceof CgroupIoError) return e.code;
  if (e instanceof Error && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

function wrap(op: string, e: unknown): CgroupIoError {
  const code = errnoCode(e);
  const detail = e instanceof Error ? e.message : String(e);
  return new CgroupIoError(`${op}: ${detail}`, code, { cause: e });
}

export function writeFile(file: string, value: string, context = ''): void {
  try {
    const fd = fs.openSync(file, WRITE_FLAGS);
    try {
      // One write(2): cgroupfs parses each write as a whole value.
      fs.writeSync(fd, value);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw wrap(`${context ? context + ': ' : ''}write ${JSON.stringify(value)} to ${file}`, e);
  }
}

export function readFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw wrap(`read ${file}`, e);
  }
}

/** undefined when the file does not exist (optional interface files, e.g. memory.peak). */
export function readOptional(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw wrap(`read ${file}`, e);
  }
}

/** true when made, false when it already existed. ENOENT (missing parent) surfaces with its code. */
export function makeDir(dir: string): boolean {
  try {
    fs.mkdirSync(dir);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw wrap(`mkdir ${dir}`, e);
  }
}

export type RmdirOutcome = 'removed' | 'absent' | 'busy';

/**
 * Directory operations a backend needs from the kernel. Tests substitute a fake kernel: on a plain
 * filesystem mkdir does not populate interface files and rmdir refuses a directory with files in it.
 */
export interface CgroupDirOps {
  makeDir(dir: string): boolean;
  removeDir(dir: string): RmdirOutcome;
  /** Interface-file writes of limits (default writeFile); a fake kernel may log them, since each write
   * replaces the last in a plain file while the kernel acts on every one (devices.allow, …). */
  writeFile?(file: string, value: string, context: string): void;
}

export function removeDir(dir: string): RmdirOutcome {
  try {
    fs.rmdirSync(dir);
    return 'removed';
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return 'absent';
    // ENOTEMPTY only happens on fake trees (regular files inside); cgroupfs says EBUSY.
    if (code === 'EBUSY' || code === 'ENOTEMPTY') return 'busy';
    throw wrap(`rmdir ${dir}`, e);
  }
}

/** Child directories of a group, deepest first, ending with the group itself; [] if it is gone. */
export function subtreeDeepestFirst(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw wrap(`list ${dir}`, e);
  }
  const out: string[] = [];
  for (const ent of entries) {
    if (ent.isDirectory()) out.push(...subtreeDeepestFirst(`${dir}/${ent.name}`));
  }
  out.push(dir);
  return out;
}

/**
 * Polls `check` with a short backoff until it returns true. Kernel state changes here (freezing,
 * tasks exiting, css release) have no event we can wait on portably.
 */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = performance.now();
  for (let delay = 0; ; delay = Math.min(delay === 0 ? 1 : delay * 2, 20)) {
    if (check()) return;
    if (performance.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await (delay === 0 ? new Promise<void>((r) => setImmediate(r)) : sleep(delay));
  }
}

export { sleep };
