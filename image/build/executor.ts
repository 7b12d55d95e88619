// How a RUN step gets executed: the builder asks a RunExecutor to run one process on an overlay root
// whose upper dir becomes the step's layer. The real one drives our runtime (tsbox); tests may fake it.

import { open, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ContainerRuntime } from '../../runtime/runtime.js';
import { buildSpec } from '../../runtime/spec.js';
import type { RunNetwork } from './instructions.js';

export interface RunRequest {
  /** Unique among running containers. */
  id: string;
  /** Lower dirs top-most first; upper receives the changes; work is overlay's scratch dir. */
  rootfs: { lower: string[]; upper: string; work: string };
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  network: RunNetwork;
  /** A private scratch dir for this run (bundle, log). */
  workDir: string;
  output: (stream: 'stdout' | 'stderr', text: string) => void;
}

export interface RunResult {
  exitCode: number;
  /** Why the command could not be started at all (not found, not executable …). */
  error?: string;
}

export interface RunExecutor {
  run(req: RunRequest): Promise<RunResult>;
}

const LogLineSchema = z.object({ log: z.string(), stream: z.enum(['stdout', 'stderr']) });

/** Follows a json-file log as the monitor appends to it. */
class LogTail {
  private offset = 0;
  private rest = '';

  constructor(
    private readonly path: string,
    private readonly emit: RunRequest['output'],
  ) {}

  async poll(): Promise<void> {
    let fh;
    try {
      fh = await open(this.path, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(1 << 16);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.rest += buf.toString('utf8', 0, bytesRead);
      }
    } finally {
      await fh.close();
    }
    const lines = this.rest.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') continue;
      const r = LogLineSchema.safeParse(JSON.parse(line));
      if (r.success) this.emit(r.data.stream, r.data.log);
    }
  }
}

/**
 * Runs RUN steps with our runtime: Docker's default confinement (capabilities, masked paths), a fresh
 * PID/IPC/UTS/mount namespace; the host's network unless --network=none (there is no build bridge).
 */
export function runtimeExecutor(rt: ContainerRuntime): RunExecutor {
  return {
    async run(req: RunRequest): Promise<RunResult> {
      const bundle = join(req.workDir, 'bundle');
      const rootfs = join(bundle, 'rootfs');
      await mkdir(rootfs, { recursive: true });
      const spec = buildSpec({
        args: req.args,
        env: req.env,
        cwd: req.cwd,
        user: req.user.additionalGids.length ? req.user : { uid: req.user.uid, gid: req.user.gid },
        rootPath: rootfs,
        hostname: 'buildkitsandbox',
        ...(req.network === 'none' ? {} : { netns: 'host' }),
      });
      const logPath = join(req.workDir, 'run.log');
      const tail = new LogTail(logPath, req.output);
      await rt.create(req.id, { bundle, spec, rootfs: req.rootfs, stdio: 'log', logPath });
      try {
        await rt.start(req.id);
        // Output appears while the command runs, not only when it ends.
        let polling = Promise.resolve();
        const timer = setInterval(() => {
          polling = polling.then(() => tail.poll()).catch(() => undefined);
        }, 100);
        let exit;
        try {
          exit = await rt.wait(req.id);
        } finally {
          clearInterval(timer);
          await polling;
        }
        await tail.poll();
        return { exitCode: exit.signal ? 128 + exit.signal : exit.exitCode };
      } finally {
        await rt.delete(req.id, { force: true });
      }
    },
  };
}
