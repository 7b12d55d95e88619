// NetworkManager: the network service the engine calls for single-host networking. A facade that
// serialises calls, keeps the records (state.ts) and persists them after each change, and drives
// the parts: IPAM (ipam.ts), drivers by name (driver.ts; bridge-driver.ts), published ports
// (published-ports.ts), the DNS server (dns/), container files (container-files.ts). Every mutating
// call either completes or is rolled back. It reports what it did to an event sink (events.ts).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ForwardCompat } from './forward-compat.js';
import { nftApply, run, sysctl } from './exec.js';
import { connectEndpoint, deleteLink, listLinks } from './link.js';
import { ingressScript, type IngressPort } from './overlay/ingress.js';
import { BridgeDriver, nftNetworkOf } from './bridge-driver.js';
import { resolvConfFor, hostsFileFor, type ResolvExtras } from './container-files.js';
import { dnsEntry, dnsScope } from './dns-registration.js';
import { DnsServer, type DnsServerOptions } from './dns/server.js';
import { DriverRegistry, type NetworkDriver } from './driver.js';
import { NetworkError } from './errors.js';
import type { NetworkEventSink } from './events.js';
import { netnsPath, newEndpointId, planEndpoint } from './endpoints.js';
import { Ipam, macForIp, routesFromIpRoute, type PoolSpec } from './ipam.js';
import { endpointView, endpointsOf, endpointsOfContainer, findByName, networkInfo, resolveNetwork } from './lookup.js';
import { NftTable } from './nft.js';
import { reserveHostPort, type PortReserver } from './ports-host.js';
import { EPHEMERAL_RANGE, type PortMapping, type PortRequest } from './ports.js';
import { PortPublisher } from './published-ports.js';
import { OverlayDriver } from './overlay/driver.js';
import { applyLb, lbScript, type LbState, type Vip } from './overlay/lb.js';
import type { Peer } from './overlay/peers.js';
import type { DnsEndpoint } from './dns/records.js';
import { loadState, saveState, type EndpointRecord, type ManagerState, type NetworkRecord } from './state.js';
import type { ConnectRequest, CreateNetworkRequest, Endpoint, NetnsRef, NetworkInfo } from './types.js';

export type { ConnectRequest, CreateNetworkRequest, Endpoint, NetnsRef, NetworkInfo } from './types.js';
export { NetworkError } from './errors.js';

export interface NetworkManagerOptions {
  /** JSON state file, e.g. <data-root>/network/state.json. */
  stateFile: string;
  /** nftables table (family inet). Default "tsswarm". */
  table?: string;
  /** Prefix of user bridge names; the network id follows. Default "tsbr-". */
  bridgePrefix?: string;
  /** Kernel name of the default `bridge` network. Default "tsw0". */
  defaultBridge?: string;
  /** Subnet of the default bridge; default: first free pool subnet (172.17.0.0/16). */
  defaultBridgeSubnet?: string;
  pools?: readonly PoolSpec[];
  /** DNS server settings; false disables it (no listener, resolv.conf uses the host's servers). */
  dns?: DnsServerOptions | false;
  /** DNS port on each gateway. Default 53. */
  dnsPort?: number;
  /** How host ports are held; default: a real listening socket per mapping. */
  reservePorts?: PortReserver;
  ephemeralRange?: readonly [number, number];
  /** Host resolv.conf used for containers' resolv.conf. Default /etc/resolv.conf. */
  hostResolvConf?: string;
  /** Turn on net.ipv4.ip_forward (needed for egress and published ports). Default true. */
  setIpForward?: boolean;
  /** Receives network events (create, connect, disconnect, destroy, prune). Default: dropped. */
  events?: NetworkEventSink;
  log?: (msg: string) => void;
}

/** A container joining a network at the user's request (`network connect`). */
export interface ConnectContainerRequest extends Omit<ConnectRequest, 'netns'> {
  /** The running container's netns; absent for a stopped container (the record alone changes). */
  netns?: NetnsRef;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Namespaces whose VIP tables are rewritten at once (one nft process each). */
const LB_PARALLEL = 8;

/** What the managers say about one overlay network (see programmeOverlay). */
export interface OverlayPicture {
  peers: readonly Peer[];
  records: readonly DnsEndpoint[];
  vips: readonly Vip[];
}

export class NetworkManager {
  private state: ManagerState;
  private ipam: Ipam;
  private readonly nft: NftTable;
  private readonly dns: DnsServer | undefined;
  private readonly bridge: BridgeDriver;
  private readonly overlay: OverlayDriver;
  /** Prefix of the overlay and routing-mesh link names. */
  private readonly overlayPrefix: string;
  /** Swarm: the service names and task addresses of other nodes, per overlay network (DNS record ids). */
  private readonly swarmRecords = new Map<string, string[]>();
  /** Swarm: VIP load balancing programmed per endpoint namespace. */
  private readonly lb = new Map<string, LbState>();
  /** Swarm: the VIPs last programmed per overlay network, for endpoints that join later. */
  private readonly overlayVips = new Map<string, readonly Vip[]>();
  /** Swarm: programmeOverlay calls queued and not yet started, per network reference. */
  private readonly overlayQueued = new Map<string, { o: OverlayPicture; done: Promise<void> }>();
  private readonly drivers = new DriverRegistry();
  private readonly publisher: PortPublisher;
  private readonly emit: NetworkEventSink;
  private readonly log: (msg: string) => void;
  private queue: Promise<unknown> = Promise.resolve();
  /** Our accepts in iptables' filter FORWARD, for hosts where dockerd set its policy to DROP. */
  private readonly forward: ForwardCompat;

  private constructor(private readonly opts: NetworkManagerOptions) {
    this.state = loadState(opts.stateFile);
    this.ipam = new Ipam(this.state.ipam, opts.pools);
    this.nft = new NftTable(opts.table ?? 'tsswarm');
    this.forward = new ForwardCompat(opts.table ?? 'tsswarm');
    this.log = opts.log ?? (() => undefined);
    this.emit = opts.events ?? (() => undefined);
    this.bridge = new BridgeDriver({ nft: this.nft, bridgePrefix: opts.bridgePrefix ?? 'tsbr-', log: this.log });
    this.drivers.register(this.bridge);
    // Link names of overlays: prefix + ov/vx + VNI, within the 15 characters of an ifname.
    this.overlayPrefix = (opts.bridgePrefix ?? 'tsbr-').replace(/br-?$/, '').slice(0, 5) || 'ts';
    this.overlay = new OverlayDriver({ prefix: this.overlayPrefix, sandboxDir: join(dirname(opts.stateFile), 'overlay') });
    this.drivers.register(this.overlay);
    this.publisher = new PortPublisher({
      nft: this.nft,
      reserve: opts.reservePorts ?? reserveHostPort,
      ephemeralRange: opts.ephemeralRange ?? EPHEMERAL_RANGE,
      state: () => this.state,
      save: () => this.save(),
      log: this.log,
    });
    this.dns =
      opts.dns === false
        ? undefined
        : new DnsServer({
            ...opts.dns,
            scope: (networkId, clientIp) => dnsScope(this.state, networkId, clientIp),
            onError: opts.dns?.onError ?? ((e) => this.log(`dns: ${e.message}`)),
          });
  }

  /**
   * Loads state and makes the kernel match it: predefined networks, bridges, our nftables table
   * (rewritten whole, atomically), DNS listeners and port holds. Endpoints whose veth vanished
   * (their container died while we were down) are dropped.
   */
  static async open(opts: NetworkManagerOptions): Promise<NetworkManager> {
    const m = new NetworkManager(opts);
    await m.exclusive(() => m.restore());
    return m;
  }

  // ---- networks -------------------------------------------------------------------------------

  createNetwork(req: CreateNetworkRequest): Promise<NetworkInfo> {
    return this.exclusive(async () => {
      if (!NAME_RE.test(req.name)) throw new NetworkError('invalid', `invalid network name "${req.name}": must match ${NAME_RE.source}`);
      if (findByName(this.state, req.name)) throw new NetworkError('conflict', `network with name ${req.name} already exists`);
      const driver = this.drivers.forCreate(req.driver ?? 'bridge');
      const id = randomBytes(32).toString('hex');
      const options = req.options ?? {};
      const planned = driver.plan({ id, name: req.name, options }, Object.values(this.state.networks));
      const rec = await this.buildNetwork(driver, {
        id,
        name: req.name,
        ...planned,
        subnet: req.subnet,
        gateway: req.gateway,
        internal: req.internal ?? false,
        labels: req.labels ?? {},
        options,
        predefined: false,
        dns: true,
      });
      // Also re-checks rules dockerd may have dropped while rewriting its chains.
      await this.syncForward();
      this.emit('create', rec.id, { name: rec.name, type: rec.driver });
      return networkInfo(this.state, rec);
    });
  }

  removeNetwork(ref: string): Promise<void> {
    return this.exclusive(async () => {
      const net = resolveNetwork(this.state, ref);
      if (net.predefined) throw new NetworkError('forbidden', `${net.name} is a pre-defined network and cannot be removed`);
      const eps = endpointsOf(this.state, net.id);
      if (eps.length) {
        throw new NetworkError('conflict', `error while removing network: network ${net.name} id ${net.id} has active endpoints (${eps.map((e) => e.containerName).join(', ')})`);
      }
      await this.teardownNetwork(net);
      delete this.state.networks[net.id];
      this.save();
      await this.syncForward();
      this.emit('destroy', net.id, { name: net.name, type: net.driver });
    });
  }

  /** Removes user-defined networks without endpoints (optionally only those `filter` accepts); returns their names. */
  pruneNetworks(filter: (n: NetworkInfo) => boolean = () => true): Promise<string[]> {
    return this.exclusive(async () => {
      const removed: string[] = [];
      for (const net of Object.values(this.state.networks)) {
        if (net.predefined || endpointsOf(this.state, net.id).length || !filter(networkInfo(this.state, net))) continue;
        await this.teardownNetwork(net);
        delete this.state.networks[net.id];
        removed.push(net.name);
        this.save();
        this.emit('destroy', net.id, { name: net.name, type: net.driver });
      }
      if (removed.length) await this.syncForward();
      // Docker reports the prune itself too; networks free no disk space, hence 0.
      this.emit('prune', '', { reclaimed: '0' });
      return removed;
    });
  }

  /**
   * Swarm: what the managers say about an overlay network this node has — the endpoints on other
   * nodes (VXLAN peers), the names its tasks resolve (service names to VIPs, `tasks.NAME` to task
   * addresses, remote tasks' names), and each VIP's backends, load-balanced in every local endpoint's
   * namespace. Idempotent: each call states the whole wanted picture; only differences are applied.
   */
  programmeOverlay(ref: string, o: OverlayPicture): Promise<void> {
    // A burst of changes (tasks starting one after another) queues many calls; while one waits, a
    // newer picture replaces its picture instead of queueing another full round over every endpoint.
    const waiting = this.overlayQueued.get(ref);
    if (waiting) {
      waiting.o = o;
      return waiting.done;
    }
    const entry = { o, done: Promise.resolve() };
    this.overlayQueued.set(ref, entry);
    entry.done = this.exclusive(async () => {
      this.overlayQueued.delete(ref);
      const { peers, records, vips } = entry.o;
      const net = resolveNetwork(this.state, ref);
      if (net.driver !== 'overlay') throw new NetworkError('invalid', `network ${net.name} is not an overlay network`);
      await this.overlay.programmePeers(net, peers);
      this.overlayVips.set(net.id, vips);
      if (this.dns) {
        for (const id of this.swarmRecords.get(net.id) ?? []) this.dns.records.remove(net.id, id);
        for (const r of records) this.dns.records.add(net.id, r);
        this.swarmRecords.set(net.id, records.map((r) => r.id));
      }
      // One nft process per namespace whose VIPs changed, a few at a time.
      const byNetns = new Map(endpointsOf(this.state, net.id).map((ep) => [ep.netnsPath, ep]));
      const eps = [...byNetns.values()];
      for (let i = 0; i < eps.length; i += LB_PARALLEL) await Promise.all(eps.slice(i, i + LB_PARALLEL).map((ep) => this.programmeLb(ep)));
    });
    return entry.done;
  }

  /**
   * The VIPs of every swarm overlay a container is on, in its namespace's one table (the table is
   * the container's, not the network's: programming one network must not drop another's VIPs).
   */
  private async programmeLb(ep: EndpointRecord): Promise<void> {
    if (!existsSync(ep.netnsPath)) {
      // The container has exited; its next start programmes a fresh namespace whole.
      this.lb.delete(ep.netnsPath);
      return;
    }
    const vips = endpointsOfContainer(this.state, ep.containerId).flatMap((e) => (this.state.networks[e.networkId]?.driver === 'overlay' ? (this.overlayVips.get(e.networkId) ?? []) : []));
    const { script, next } = lbScript(this.lb.get(ep.netnsPath), vips);
    try {
      await applyLb(ep.netnsPath, script);
      this.lb.set(ep.netnsPath, next);
    } catch (e) {
      // The container may be going away; its next start gets the whole table again.
      this.lb.delete(ep.netnsPath);
      this.log(`overlay: cannot programme VIPs in ${ep.containerName}: ${(e as Error).message}`);
    }
  }

  /**
   * Swarm routing mesh (the ingress overlay): this node's own endpoint on it, and the published ports
   * forwarded to the services' tasks anywhere in the cluster (overlay/ingress.ts). Without `mesh`,
   * both are removed.
   */
  programmeIngress(ref: string, mesh: { nodeAddr: string; ports: readonly IngressPort[] } | undefined): Promise<void> {
    return this.exclusive(async () => {
      const net = resolveNetwork(this.state, ref);
      const p = this.overlayPrefix;
      const sandbox = `${p}ig0`;
      const overlayNs = this.overlay.namespaceOf(net);
      if (!mesh) {
        await nftApply(ingressScript(sandbox, []), undefined).catch(() => undefined);
        await deleteLink(`${p}igh`, overlayNs).catch(() => undefined);
        return;
      }
      const [ip, prefix] = mesh.nodeAddr.split('/') as [string, string];
      const links = await listLinks();
      if (!links.includes(sandbox)) {
        // The node itself becomes an endpoint of the overlay: one end here, one on the overlay's bridge.
        await connectEndpoint({ bridge: net.bridge!, hostIf: `${p}igh`, netnsPath: `/proc/${process.pid}/ns/net`, ifname: sandbox, ip, prefix: Number(prefix), mac: macForIp(ip), mtu: 1450 }, overlayNs);
        await sysctl({ [`net.ipv4.conf.${sandbox}.route_localnet`]: '1' });
      }
      // A port that keeps the client's address reaches this node's tasks by their gateway-bridge
      // address, so request and reply take the same path through this namespace's conntrack.
      const viaGateway = (ip: string): string | undefined => {
        const ep = endpointsOf(this.state, net.id).find((e) => e.ip === ip);
        if (!ep) return undefined;
        return endpointsOfContainer(this.state, ep.containerId).find((e) => this.state.networks[e.networkId]?.driver === 'bridge')?.ip;
      };
      const ports = mesh.ports.map((p) => (p.local ? { ...p, backends: p.backends.map(viaGateway).filter((x): x is string => !!x) } : p));
      await nftApply(ingressScript(sandbox, ports));
    });
  }

  listNetworks(): NetworkInfo[] {
    return Object.values(this.state.networks)
      .map((n) => networkInfo(this.state, n))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** By exact id, exact name, or unique id prefix (Docker's order). */
  inspectNetwork(ref: string): NetworkInfo {
    return networkInfo(this.state, resolveNetwork(this.state, ref));
  }

  // ---- endpoints ------------------------------------------------------------------------------

  /**
   * `network connect`: joins a running container's netns to the network (a stopped container gets
   * its endpoint when it starts) and reports the connect event. Returns the network as it was found.
   */
  connectContainer(req: ConnectContainerRequest): Promise<NetworkInfo> {
    return this.exclusive(async () => {
      const net = resolveNetwork(this.state, req.network);
      const info = networkInfo(this.state, net);
      if (req.netns) await this.connectLocked({ ...req, network: net.id, netns: req.netns });
      this.emit('connect', net.id, { container: req.containerId, name: net.name, type: net.driver });
      return info;
    });
  }

  /** `network disconnect`: the reverse of connectContainer; `running` says whether there is an endpoint to remove. */
  disconnectContainer(network: string, containerId: string, running: boolean): Promise<NetworkInfo> {
    return this.exclusive(async () => {
      const net = resolveNetwork(this.state, network);
      const info = networkInfo(this.state, net);
      if (running) await this.disconnectLocked(net, containerId);
      this.emit('disconnect', net.id, { container: containerId, name: net.name, type: net.driver });
      return info;
    });
  }

  /** Gives a starting container its endpoint on a network. No event: only `network connect` reports one today. */
  connect(req: ConnectRequest): Promise<Endpoint> {
    return this.exclusive(() => this.connectLocked(req));
  }

  disconnect(network: string, containerId: string): Promise<void> {
    return this.exclusive(() => this.disconnectLocked(resolveNetwork(this.state, network), containerId));
  }

  /** Container stopped or removed: unpublish its ports and detach it from every network. */
  releaseContainer(containerId: string): Promise<void> {
    return this.exclusive(async () => {
      await this.publisher.unpublish(containerId);
      for (const ep of endpointsOfContainer(this.state, containerId)) await this.dropEndpoint(ep, true);
    });
  }

  endpoints(containerId: string): Endpoint[] {
    return endpointsOfContainer(this.state, containerId).map((e) => endpointView(e, this.state.networks[e.networkId]!));
  }

  // ---- published ports ------------------------------------------------------------------------

  /**
   * Publishes ports of a connected container (DNAT to its address on its first non-internal
   * network). All or nothing: any taken port fails the whole call and nothing is left behind.
   * Returns [] when the container has no such network (Docker ignores -p there too).
   */
  publish(containerId: string, requests: readonly PortRequest[]): Promise<PortMapping[]> {
    return this.exclusive(async () => {
      const target = endpointsOfContainer(this.state, containerId).find((e) => !this.state.networks[e.networkId]!.internal);
      if (!target || requests.length === 0) return [];
      return this.publisher.publish(containerId, target.ip, requests);
    });
  }

  unpublish(containerId: string): Promise<void> {
    return this.exclusive(() => this.publisher.unpublish(containerId));
  }

  ports(containerId: string): PortMapping[] {
    return [...(this.state.published[containerId]?.mappings ?? [])];
  }

  // ---- container files ------------------------------------------------------------------------

  /** /etc/resolv.conf for a container: its first DNS-enabled network's gateway, else the host's servers. */
  resolvConf(containerId: string, extra: ResolvExtras = {}): string {
    const ep = this.dns ? endpointsOfContainer(this.state, containerId).find((e) => listensForDns(this.state.networks[e.networkId])) : undefined;
    return resolvConfFor(this.opts.hostResolvConf ?? '/etc/resolv.conf', ep?.gateway, extra);
  }

  /** /etc/hosts for a container. */
  hostsFile(containerId: string, hostname: string): string {
    return hostsFileFor(endpointsOfContainer(this.state, containerId), hostname);
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Daemon shutdown: stop DNS and drop port holds. Kernel state stays so containers keep working. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      this.publisher.releaseHolds();
      await this.dns?.close();
    });
  }

  /** Removes everything this manager made (endpoints, bridges, nftables table) and empties the state. */
  teardown(): Promise<void> {
    return this.exclusive(async () => {
      this.publisher.releaseHolds();
      await this.dns?.close();
      const errors: string[] = [];
      for (const ep of Object.values(this.state.endpoints)) {
        const net = this.state.networks[ep.networkId];
        if (net) await this.drivers.find(net.driver)?.leave(net, ep).catch((e: Error) => errors.push(e.message));
      }
      for (const n of Object.values(this.state.networks)) await this.drivers.find(n.driver)?.delete(n, { shared: 'going' }).catch((e: Error) => errors.push(e.message));
      await this.nft.deleteTable().catch((e: Error) => errors.push(e.message));
      await this.forward.removeAll().catch((e: Error) => errors.push(`iptables FORWARD rules: ${e.message}`));
      this.state = { ...this.state, networks: {}, endpoints: {}, published: {}, ipam: { networks: {} } };
      this.ipam = new Ipam(undefined, this.opts.pools);
      this.save();
      if (errors.length) throw new NetworkError('internal', `network teardown incomplete: ${errors.join('; ')}`);
    });
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Serialises mutations: each API call sees the state the previous one left. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private save(): void {
    this.state.ipam = this.ipam.toJSON();
    saveState(this.opts.stateFile, this.state);
  }

  private async restore(): Promise<void> {
    if (this.opts.setIpForward ?? true) await sysctl({ 'net.ipv4.ip_forward': '1' });
    for (const driver of this.drivers.names().map((n) => this.drivers.find(n)!)) {
      const nets = Object.values(this.state.networks).filter((n) => n.driver === driver.name);
      const ids = new Set(nets.map((n) => n.id));
      const { stale } = await driver.restore(
        nets,
        Object.values(this.state.endpoints).filter((e) => ids.has(e.networkId)),
      );
      for (const ep of stale) {
        this.log(`dropping stale endpoint ${ep.containerName} on ${ep.networkId} (${ep.hostIf} is gone)`);
        this.forgetEndpoint(ep);
      }
    }
    const bridges = Object.values(this.state.networks).filter((n) => n.driver === 'bridge' && n.bridge);
    await this.nft.replaceAll(bridges.map(nftNetworkOf), this.publisher.nftPorts());

    if (!Object.values(this.state.networks).some((n) => n.predefined)) await this.createPredefined();

    for (const n of Object.values(this.state.networks)) {
      if (!n.dns || !this.dns || !n.gateway) continue;
      for (const ep of endpointsOf(this.state, n.id)) this.dns.records.add(n.id, dnsEntry(ep));
      if (!listensForDns(n)) continue;
      // Containers keep working without names, so a DNS bind failure must not stop the daemon.
      await this.dns.listen(n.id, n.gateway, this.opts.dnsPort ?? 53).catch((e: Error) => this.log(e.message));
    }
    await this.publisher.restoreHolds();
    this.save();
    await this.syncForward();
  }

  /**
   * Keeps our accepts in iptables' filter FORWARD in step with our bridges. A host without iptables
   * needs none, so a failure is logged, never fatal: the bridge itself works either way.
   */
  private async syncForward(): Promise<void> {
    const bridges = Object.values(this.state.networks).flatMap((n) => (n.driver === 'bridge' && n.bridge ? [n.bridge] : []));
    await this.forward.sync(bridges).catch((e: Error) => this.log(`cannot update iptables FORWARD accepts for our bridges: ${e.message}`));
  }

  private async createPredefined(): Promise<void> {
    const now = new Date().toISOString();
    const base = { internal: false, labels: {}, options: {}, predefined: true, dns: false, created: now };
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      const id = randomBytes(32).toString('hex');
      this.state.networks[id] = { id, name, driver, ...base };
    }
    const bridge = this.opts.defaultBridge ?? 'tsw0';
    await this.bridge.reclaimDefaultBridge(bridge);
    await this.buildNetwork(this.bridge, {
      id: randomBytes(32).toString('hex'),
      name: 'bridge',
      bridge,
      subnet: this.opts.defaultBridgeSubnet,
      internal: false,
      labels: {},
      options: { 'com.docker.network.bridge.default_bridge': 'true' },
      predefined: true,
      // Like Docker's default bridge: no name resolution, containers use the host's resolvers.
      dns: false,
    });
  }

  private async hostRoutes(): Promise<string[]> {
    try {
      return routesFromIpRoute(await run('ip', ['-4', 'route', 'show']));
    } catch (e) {
      this.log(`cannot read host routes, subnet choice ignores them: ${(e as Error).message}`);
      return [];
    }
  }

  /** IPAM, then the driver's kernel objects, then DNS; each undone in reverse if a later one fails. */
  private async buildNetwork(driver: NetworkDriver, p: Omit<NetworkRecord, 'driver' | 'created' | 'subnet' | 'gateway'> & { subnet?: string; gateway?: string }): Promise<NetworkRecord> {
    const undo: (() => Promise<unknown>)[] = [];
    try {
      let addr;
      try {
        addr = this.ipam.allocateSubnet(p.id, { subnet: p.subnet, gateway: p.gateway, avoid: p.subnet ? [] : await this.hostRoutes() });
      } catch (e) {
        throw new NetworkError('invalid', `cannot create network ${p.name}: ${(e as Error).message}`, { cause: e });
      }
      undo.push(async () => this.ipam.releaseSubnet(p.id));
      const rec: NetworkRecord = { ...p, driver: driver.name, subnet: addr.subnet, gateway: addr.gateway, created: new Date().toISOString() };
      await driver.create(rec, addr);
      undo.push(() => driver.delete(rec));
      if (listensForDns(rec) && this.dns) {
        await this.dns.listen(rec.id, addr.gateway, this.opts.dnsPort ?? 53);
        undo.push(() => this.dns!.unlisten(rec.id));
      }
      this.state.networks[rec.id] = rec;
      this.save();
      return rec;
    } catch (e) {
      for (const u of undo.reverse()) await u().catch((ue: Error) => this.log(`rollback of network ${p.name}: ${ue.message}`));
      if (e instanceof NetworkError) throw e;
      throw new NetworkError('internal', `cannot create network ${p.name}: ${(e as Error).message}`, { cause: e });
    }
  }

  private async teardownNetwork(net: NetworkRecord): Promise<void> {
    const driver = this.drivers.find(net.driver);
    if (!driver) return;
    await this.dns?.unlisten(net.id);
    this.dns?.records.removeNetwork(net.id);
    await driver.delete(net);
    this.ipam.releaseSubnet(net.id);
  }

  private async connectLocked(req: ConnectRequest): Promise<Endpoint> {
    const net = resolveNetwork(this.state, req.network);
    const driver = this.drivers.find(net.driver);
    if (!driver) throw new NetworkError('invalid', `network ${net.name} (driver ${net.driver}) has no endpoints to connect; the runtime handles it`);
    if (endpointsOfContainer(this.state, req.containerId).some((e) => e.networkId === net.id)) {
      throw new NetworkError('conflict', `container ${req.containerName} is already connected to network ${net.name}`);
    }
    // Checked before any address is taken, so a bad netns leaves IPAM as it was.
    netnsPath(req.netns);
    const endpointId = newEndpointId();
    let ip: string;
    try {
      ip = this.ipam.allocateAddress(net.id, req.ip);
    } catch (e) {
      throw new NetworkError(req.ip ? 'invalid' : 'conflict', (e as Error).message, { cause: e });
    }
    const { prefix, gateway } = this.ipam.get(net.id);
    const rec = planEndpoint(endpointId, net, req, { ip, prefix, gateway }, endpointsOfContainer(this.state, req.containerId));
    try {
      await driver.join(net, rec);
    } catch (e) {
      this.ipam.releaseAddress(net.id, ip);
      throw new NetworkError('internal', `cannot connect container ${req.containerName} to network ${net.name}: ${(e as Error).message}`, { cause: e });
    }
    this.state.endpoints[endpointId] = rec;
    if (net.dns) this.dns?.records.add(net.id, dnsEntry(rec));
    // A container joining a swarm overlay after its VIPs were programmed gets them at once.
    if (net.driver === 'overlay' && this.overlayVips.has(net.id)) await this.programmeLb(rec);
    this.save();
    return endpointView(rec, net);
  }

  private async disconnectLocked(net: NetworkRecord, containerId: string): Promise<void> {
    const ep = endpointsOfContainer(this.state, containerId).find((e) => e.networkId === net.id);
    if (!ep) throw new NetworkError('not-found', `container ${containerId} is not connected to network ${net.name}`);
    await this.dropEndpoint(ep, true);
  }

  private async dropEndpoint(ep: EndpointRecord, save: boolean): Promise<void> {
    const pub = this.state.published[ep.containerId];
    if (pub && pub.containerIp === ep.ip) await this.publisher.unpublish(ep.containerId);
    const net = this.state.networks[ep.networkId];
    if (net) await this.drivers.find(net.driver)?.leave(net, ep);
    this.forgetEndpoint(ep);
    if (save) this.save();
  }

  private forgetEndpoint(ep: EndpointRecord): void {
    this.ipam.releaseAddress(ep.networkId, ep.ip);
    this.dns?.records.remove(ep.networkId, ep.id);
    delete this.state.endpoints[ep.id];
    if (!Object.values(this.state.endpoints).some((e) => e.netnsPath === ep.netnsPath)) this.lb.delete(ep.netnsPath);
    const pub = this.state.published[ep.containerId];
    // On restore the kernel table is rebuilt from state, so stale mappings just vanish with it.
    if (pub && pub.containerIp === ep.ip) delete this.state.published[ep.containerId];
  }
}

/**
 * Whether the embedded DNS listens on the network's gateway. An overlay's gateway address is not on
 * the node (its bridge has none), so its names are answered through the container's other network
 * (the gateway bridge), whose scope includes the overlay (dnsScope).
 */
function listensForDns(n: NetworkRecord | undefined): boolean {
  return !!n?.dns && n.driver !== 'overlay';
}
