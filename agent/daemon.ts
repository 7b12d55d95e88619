// The per-host daemon (dockerd's role): owns the engine's state and serves the Engine API on a unix socket.
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { mkdir, unlink, writeFile, readFile, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hostname, cpus, totalmem, release } from 'node:os';
import { Router } from './api/router.js';
import { DaemonOptions, socketPath } from './config.js';
import { createLogger, type Logger } from '../lib/log.js';
import { VERSION, API_VERSION } from '../lib/version.js';

export interface VersionInfo {
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  NodeVersion: string;
}

export class Daemon {
  readonly router = new Router();
  private server?: Server;
  private readonly log: Logger;
  readonly startedAt = new Date();

  constructor(
    readonly opts: DaemonOptions,
    log: Logger = createLogger('daemon'),
  ) {
    this.log = log;
    this.router
      .get('/_ping', async () => 'OK')
      .head('/_ping', async () => 'OK')
      .get('/version', async () => this.version())
      .get('/info', async () => this.info());
  }

  version(): VersionInfo {
    return {
      Version: VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: '1.24',
      Os: process.platform,
      Arch: process.arch === 'x64' ? 'amd64' : process.arch,
      KernelVersion: release(),
      NodeVersion: process.version,
    };
  }

  info(): Record<string, unknown> {
    return {
      ID: '',
      Name: hostname(),
      ServerVersion: VERSION,
      DockerRootDir: this.opts.dataRoot,
      ExecRoot: this.opts.execRoot,
      NCPU: cpus().length,
      MemTotal: totalmem(),
      KernelVersion: release(),
      OperatingSystem: 'linux',
      Driver: 'overlay2',
      SystemTime: new Date().toISOString(),
      Pid: process.pid,
    };
  }

  async start(): Promise<void> {
    const sock = socketPath(this.opts.host);
    await mkdir(this.opts.dataRoot, { recursive: true, mode: 0o711 });
    await mkdir(this.opts.execRoot, { recursive: true, mode: 0o700 });
    await mkdir(dirname(sock), { recursive: true });
    await claimSocket(sock);
    const server = createServer((req, res) => {
      void this.router.handle(req, res);
    });
    // Streams (logs -f, attach) may be idle for long; the defaults would cut them.
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(sock, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(sock, 0o660);
    this.server = server;
    await writeFile(join(this.opts.execRoot, 'tsswarm.pid'), `${process.pid}\n`);
    this.log.info('daemon listening', { host: this.opts.host, dataRoot: this.opts.dataRoot, pid: process.pid });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await unlink(socketPath(this.opts.host)).catch(() => undefined);
    const pidFile = join(this.opts.execRoot, 'tsswarm.pid');
    const pid = await readFile(pidFile, 'utf8').catch(() => '');
    if (pid.trim() === String(process.pid)) await unlink(pidFile).catch(() => undefined);
    this.log.info('daemon stopped');
  }
}

/** Removes a stale socket file; refuses when another daemon still answers on it. */
async function claimSocket(sock: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const c = connect(sock);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another daemon is already listening on unix://${sock}`);
  await unlink(sock).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
