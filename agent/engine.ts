// The engine: the services one daemon owns (images, runtime, volumes, networks, containers), opened
// and reconciled at start and closed at stop.
import { EventBus } from './events.js';
import { ImageService } from './images/service.js';
import { ExecService } from './containers/exec-service.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageStore } from '../image/index.js';
import { Runtime, type ContainerRuntime } from '../runtime/index.js';
import { NetworkManager, type NetworkManagerOptions } from '../network/manager.js';
import { VolumeService } from './volumes/service.js';
import { ContainerService } from './containers/service.js';
import type { DaemonOptions } from './config.js';
import type { Logger } from '../lib/log.js';

/**
 * Kernel names of the networking this daemon makes. Concurrent daemons (tests) must not share a
 * bridge or nftables table, so TSSWARM_NET_PREFIX (≤ 4 chars) gives each its own.
 */
export function networkNames(prefix = process.env.TSSWARM_NET_PREFIX): Pick<NetworkManagerOptions, 'table' | 'bridgePrefix' | 'defaultBridge'> {
  if (!prefix) return {};
  if (!/^[a-z][a-z0-9]{0,3}$/.test(prefix)) throw new Error(`TSSWARM_NET_PREFIX "${prefix}": expected 1-4 lower-case letters/digits, starting with a letter`);
  return { table: `tsswarm_${prefix}`, bridgePrefix: `${prefix}b`, defaultBridge: `${prefix}0` };
}

/**
 * The native helpers live in dist/. Inside the bundle the libraries' own lookups resolve relative to
 * dist/chunks/ and miss them, so point them at the right place unless the environment already does.
 */
export function locateHelpers(): void {
  const here = dirname(fileURLToPath(import.meta.url));
  const dirs = [here, join(here, '..'), join(here, '..', 'dist'), process.argv[1] ? dirname(process.argv[1]) : here];
  const find = (name: string): string | undefined => dirs.map((d) => join(d, name)).find((p) => existsSync(p));
  if (!process.env.TSSWARM_TSBOX) {
    const p = find('tsbox');
    if (p) process.env.TSSWARM_TSBOX = p;
  }
  if (!process.env.TSSWARM_TSUNPACK) {
    const p = find('tsunpack');
    if (p) process.env.TSSWARM_TSUNPACK = p;
  }
}

export class Engine {
  private constructor(
    readonly images: ImageStore,
    readonly runtime: ContainerRuntime,
    readonly volumes: VolumeService,
    readonly network: NetworkManager,
    readonly containers: ContainerService,
    readonly events: EventBus,
    readonly imageService: ImageService,
    readonly execs: ExecService,
    private readonly log: Logger,
    private readonly liveRestore: boolean,
  ) {}

  static async open(opts: DaemonOptions, log: Logger): Promise<Engine> {
    locateHelpers();
    const images = await ImageStore.open(opts.dataRoot);
    const runtime = new Runtime({ root: join(opts.execRoot, 'runtime') });
    // One event stream (GET /events) that every service publishes to.
    const events = new EventBus();
    const volumes = new VolumeService({ dataRoot: opts.dataRoot, events });
    const vl = await volumes.load();
    for (const c of vl.corrupt) log.warn('corrupt volume record moved aside', { id: c.id, to: c.movedTo });
    const netLog = log.child('network');
    const network = await NetworkManager.open({
      stateFile: join(opts.dataRoot, 'network', 'state.json'),
      ...networkNames(),
      events: (action, id, attributes) => events.publish('network', action, id, attributes),
      log: (msg) => netLog.info(msg),
    });
    const containers = new ContainerService({ dataRoot: opts.dataRoot, ...(opts.cgroupParent ? { cgroupParent: opts.cgroupParent } : {}), images, runtime, volumes, network, log: log.child('containers'), bus: events });
    const imageService = new ImageService({ store: images, events, containers: { exists: (id) => containers.tryGet(id) !== undefined, isRunning: (id) => containers.isRunning(id) } });
    const execs = new ExecService({ runtime, images, resolve: (ref) => containers.resolve(ref) });
    const e = new Engine(images, runtime, volumes, network, containers, events, imageService, execs, log, opts.liveRestore === true);
    await containers.load();
    return e;
  }

  /**
   * Stops containers (Docker without live-restore: each gets its stop signal and, when it ignores it,
   * SIGKILL after its stop timeout — a `sleep` as PID 1 ignores SIGTERM, hence ~10 s) and closes
   * listeners. With live-restore the containers stay up under their monitors and nothing waits. With TSSWARM_TEARDOWN=1 (tests) it also removes every
   * container and all kernel networking this daemon made, so nothing is left behind.
   */
  async close(): Promise<void> {
    if (process.env.TSSWARM_TEARDOWN === '1') {
      await this.containers.removeAll();
      await this.network.teardown().catch((e: Error) => this.log.warn('network teardown failed', { err: e }));
      return;
    }
    if (this.liveRestore) await this.containers.detach();
    else await this.containers.shutdown();
    await this.network.close();
  }
}
