// The node's composition root: the per-host daemon process (dockerd's role). It builds the engine, the swarm
// node (agent session, and the manager on managers) and the task worker, wires the Engine API routes to
// them, and owns the listeners: the unix socket here, the cluster port through the manager it starts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { mkdir, unlink, chmod, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hostname, cpus, totalmem, release } from 'node:os';
import { Router } from '../agent/api/router.js';
import { pingRoutes } from '../agent/api/routes-ping.js';
import { MIN_API_VERSION } from '../agent/api/api-version.js';
import { DaemonOptions, socketPath } from '../agent/config.js';
import type { VersionInfo } from '../api/daemon.js';
import { createLogger, type Logger } from '../lib/log.js';
import { VERSION, API_VERSION } from '../lib/version.js';
import type { Engine } from '../agent/engine.js';
import type { SwarmNode } from './swarm.js';
import type { NodeDescription } from '../manager/protocol.js';
import type { TaskAttachment } from '../agent/exec/worker.js';
import { acquirePidFile, releasePidFile } from '../agent/pidfile.js';

export type { VersionInfo };

export class Daemon {
  readonly router = new Router();
  private server?: Server;
  /** dev/inode of the socket this daemon bound: at stop it is unlinked only if it is still that one. */
  private socketId?: { dev: number; ino: number };
  /** Pid files held as locks on the data root and the exec root. */
  private locks: string[] = [];
  private readonly log: Logger;
  readonly startedAt = new Date();
  engine?: Engine;
  swarm?: SwarmNode;

  constructor(
    readonly opts: DaemonOptions,
    log: Logger = createLogger('daemon'),
  ) {
    this.log = log;
    pingRoutes(this.router);
    this.router
      .get('/version', async () => this.version())
      .get('/info', async () => ({ ...this.info(), Swarm: await this.swarmInfo() }));
  }

  version(): VersionInfo {
    return {
      Version: VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
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
      Containers: this.engine?.containers.list().length ?? 0,
      ContainersRunning: this.engine?.containers.list().filter((c) => c.State.Status === 'running').length ?? 0,
      Images: this.engine?.images.listRecords().length ?? 0,
      SystemTime: new Date().toISOString(),
      Pid: process.pid,
    };
  }

  private async swarmInfo(): Promise<Record<string, unknown>> {
    return this.swarm ? this.swarm.info() : { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null };
  }

  /** What this node tells the swarm about itself (Docker's NodeDescription). */
  nodeDescription(): NodeDescription {
    return {
      Hostname: hostname(),
      Platform: { Architecture: process.arch === 'x64' ? 'x86_64' : process.arch, OS: 'linux' },
      Resources: { NanoCPUs: cpus().length * 1e9, MemoryBytes: totalmem() },
      Engine: { EngineVersion: VERSION, Labels: {} },
    };
  }

  async start(): Promise<void> {
    try {
      await this.startInner();
    } catch (e) {
      // A daemon that failed to start must not keep the roots locked (nor leave its socket).
      this.server?.close();
      this.server = undefined;
      await this.unlinkOwnSocket();
      await this.releaseLocks();
      throw e;
    }
  }

  private async startInner(): Promise<void> {
    const sock = socketPath(this.opts.host);
    await mkdir(this.opts.dataRoot, { recursive: true, mode: 0o710 });
    // Docker's modes: the data root 0710, so local users cannot list or read image layers and
    // container files; mkdir's mode applies only when it creates, so an older root is tightened too.
    await chmod(this.opts.dataRoot, 0o710);
    await mkdir(this.opts.execRoot, { recursive: true, mode: 0o700 });
    // Before anything else: a second daemon on the same roots would re-attach to the first one's
    // containers and, when it stops, kill them and tear down the shared networking.
    for (const f of [join(this.opts.dataRoot, 'tsswarm.pid'), join(this.opts.execRoot, 'tsswarm.pid')]) {
      if (this.locks.includes(f)) continue; // --data-root and --exec-root may be the same directory
      await acquirePidFile(f);
      this.locks.push(f);
    }
    await mkdir(dirname(sock), { recursive: true });
    await claimSocket(sock);
    // The engine is loaded only here so that `tsswarm version` never pays for it.
    const { Engine } = await import('../agent/engine.js');
    const { containerRoutes } = await import('../agent/api/routes-containers.js');
    const { containerExtraRoutes } = await import('../agent/api/routes-containers-extra.js');
    const { imageRoutes } = await import('../agent/api/routes-images.js');
    const { networkRoutes } = await import('../agent/api/routes-networks.js');
    const { volumeRoutes, diskUsageRoutes } = await import('../agent/api/routes-volumes.js');
    const { buildRoutes } = await import('../agent/api/routes-build.js');
    const { archiveRoutes } = await import('../agent/api/routes-archive.js');
    const { authRoutes } = await import('../agent/api/routes-auth.js');
    const { eventRoutes } = await import('../agent/api/routes-events.js');
    const { swarmRoutes } = await import('../agent/api/routes-swarm.js');
    const { serviceRoutes } = await import('../agent/api/routes-services.js');
    const { SwarmNode } = await import('./swarm.js');
    const { distributionRoutes } = await import('../agent/api/routes-distribution.js');
    const engine = await Engine.open(this.opts, this.log.child('engine'));
    this.engine = engine;
    // Swarm mode: a node that was in a swarm rejoins it as the same node (no token needed).
    const { Worker } = await import('../agent/exec/worker.js');
    const { registryAuth } = await import('../agent/api/routes-auth.js');
    const { overlayHost, swarmNetworkIdOf } = await import('../agent/exec/overlay-host.js');
    const overlays = overlayHost(engine, () => this.swarm?.nodeAddr() ?? '');
    const worker = new Worker({
      overlays,
      containers: engine.containers,
      events: engine.events,
      ensureImage: async (ref, auth) => {
        if (engine.images.has(ref)) return;
        await engine.imageService.pull(ref, {
          insecureRegistries: (process.env.TSSWARM_INSECURE_REGISTRIES ?? '').split(',').filter(Boolean),
          ...(auth ? { credentials: registryAuth(auth) } : {}),
        });
      },
      node: () => ({ ID: this.swarm?.nodeId() ?? '', Hostname: this.nodeDescription().Hostname }),
      filesRoot: join(this.opts.execRoot, 'swarm', 'tasks'),
      hostPorts: (id) => engine.network.ports(id),
      log: this.log.child('worker'),
    });
    this.swarm = new SwarmNode(this.opts.dataRoot, () => this.nodeDescription(), this.log.child('swarm'), worker);
    await this.swarm.restore();
    // `run --network NAME` with an attachable swarm overlay this node does not have yet.
    const swarm = this.swarm;
    engine.containers.setSwarmNetworks({
      attach: async (network, id, name) => {
        const att = (await swarm.attach(network, id, name)) as TaskAttachment | undefined;
        if (!att) return undefined;
        const gateway = await overlays.gateway(att.Network.Spec.Internal === true);
        const local = await overlays.ensure(att);
        // The managers' picture of the network may have come before its side here was made.
        await worker.reprogramme([att.Network.ID]);
        return { gateway, network: local, ip: att.Addresses[0]!.split('/')[0]! };
      },
      detach: (id) => swarm.detach(id),
      isSwarmNetwork: (n) => swarmNetworkIdOf(engine.network, n) !== undefined,
    });
    swarmRoutes(this.router, this.swarm);
    containerRoutes(this.router, engine);
    containerExtraRoutes(this.router, engine);
    imageRoutes(this.router, engine);
    networkRoutes(this.router, engine, this.swarm);
    serviceRoutes(this.router, this.swarm);
    volumeRoutes(this.router, engine);
    diskUsageRoutes(this.router, engine);
    buildRoutes(this.router, engine);
    archiveRoutes(this.router, engine);
    authRoutes(this.router);
    eventRoutes(this.router, engine);
    distributionRoutes(this.router);
    // Router.handle answers every error itself; a rejection that still escapes must not become an
    // unhandled rejection, which ends the daemon and every connection it holds without an answer.
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      this.router.handle(req, res).catch((err: Error) => {
        this.log.error('request handler failed', { method: req.method, url: req.url, err });
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: `internal error: ${err.message}` }));
        else res.destroy();
      });
    };
    const server = createServer((req, res) => {
      // A container removal finishes in the background (service.ts removeRecord). Calls about other
      // objects wait for it, so e.g. `network rm` right after `run --rm` never finds the container's
      // endpoint still there, while the container calls themselves do not wait.
      if (engine.containers.busy && !CONTAINER_PATH.test(req.url ?? '')) {
        void engine.containers.settle().then(() => handle(req, res));
        return;
      }
      handle(req, res);
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
    this.server = server;
    const st = await stat(sock);
    this.socketId = { dev: st.dev, ino: st.ino };
    await chmod(sock, 0o660);
    this.log.info('daemon listening', { host: this.opts.host, dataRoot: this.opts.dataRoot, pid: process.pid });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await this.swarm?.stop().catch((err: Error) => this.log.error('swarm shutdown failed', { err }));
    // Engine first, while streams (logs -f, attach) can still see their containers end.
    await this.engine?.close().catch((err: Error) => this.log.error('engine shutdown failed', { err }));
    server.closeAllConnections();
    await closed;
    await this.unlinkOwnSocket();
    await this.releaseLocks();
    this.log.info('daemon stopped');
  }

  /** Unlinks the socket path only while it is still the socket this daemon bound (not a successor's). */
  private async unlinkOwnSocket(): Promise<void> {
    const id = this.socketId;
    if (!id) return;
    this.socketId = undefined;
    const sock = socketPath(this.opts.host);
    const st = await stat(sock).catch(() => undefined);
    if (st && st.dev === id.dev && st.ino === id.ino) await unlink(sock).catch(() => undefined);
  }

  private async releaseLocks(): Promise<void> {
    for (const f of this.locks.splice(0)) await releasePidFile(f);
  }
}

/** Calls that never wait for background removals: containers, exec, and the daemon's own. */
const CONTAINER_PATH = /^(\/v\d+\.\d+)?\/(containers|exec|_ping|version|info)(\/|\?|$)/;

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
