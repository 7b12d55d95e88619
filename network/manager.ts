// NetworkManager: what the engine calls for single-host networking. It owns the records (networks,
// endpoints, published ports, IPAM) and keeps bridges/veths (link.ts), our nftables table (nft.ts)
// and the DNS server (dns/) in step with them. Every mutating call either completes or is rolled
// back, and the state file is written after each one.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { run, sysctl } from './exec.js';
import { Ipam, macForIp, routesFromIpRoute, type PoolSpec } from './ipam.js';
import { checkIfname, connectEndpoint, createBridge, deleteLink, disconnectEndpoint, listLinks, shortName } from './link.js';
import { NftTable, type NftNetwork, type NftPort } from './nft.js';
import { PortInUseError, reserveHostPort, type PortHold, type PortReserver } from './ports-host.js';
import { EPHEMERAL_RANGE, bindingsClash, candidatePorts, mappingKey, portInUseMessage, type PortMapping, type PortRequest } from './ports.js';
import { DnsServer, type DnsServerOptions } from './dns/server.js';
import { containerResolvConf } from './dns/records.js';
import { loadState, saveState, type EndpointRecord, type ManagerState, type NetworkRecord } from './state.js';

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
  log?: (msg: string) => void;
}

export interface CreateNetworkRequest {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  internal?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

export type NetnsRef = { pid: number } | { path: string };

export interface ConnectRequest {
  /** Network id, id prefix or name. */
  network: string;
  containerId: string;
  containerName: string;
  netns: NetnsRef;
  /** Extra DNS names on this network (compose service name, --network-alias). */
  aliases?: readonly string[];
  /** --ip */
  ip?: string;
}

export interface Endpoint {
  endpointId: string;
  networkId: string;
  networkName: string;
  ip: string;
  prefix: number;
  gateway: string;
  mac: string;
  ifname: string;
}

export interface NetworkInfo extends NetworkRecord {
  containers: Record<string, { name: string; endpointId: string; ip: string; prefix: number; mac: string; aliases: string[] }>;
}

export class NetworkError extends Error {
  override name = 'NetworkError';
  constructor(
    message: string,
    /** HTTP-ish status the engine API can return: 400 bad input, 404 not found, 409 conflict. */
    readonly status: 400 | 403 | 404 | 409 | 500 = 500,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Docker's driver options we honour. */
export const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name';
export const OPT_MTU = 'com.docker.network.driver.mtu';

function mtuOf(options: Record<string, string>): number | undefined {
  const v = options[OPT_MTU];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 68 || n > 65535) throw new Error(`invalid ${OPT_MTU} "${v}": expected an integer 68-65535`);
  return n;
}

function netnsPath(ref: NetnsRef): string {
  if ('pid' in ref) {
    if (!Number.isInteger(ref.pid) || ref.pid <= 0) throw new NetworkError(`invalid pid ${ref.pid}`, 400);
    return `/proc/${ref.pid}/ns/net`;
  }
  if (!ref.path.startsWith('/') || /\s/.test(ref.path)) throw new NetworkError(`invalid netns path "${ref.path}"`, 400);
  return ref.path;
}

export class NetworkManager {
  private state: ManagerState;
  private ipam: Ipam;
  private readonly nft: NftTable;
  private readonly dns: DnsServer | undefined;
  private readonly holds = new Map<string, PortHold>();
  private readonly reserve: PortReserver;
  private readonly log: (msg: string) => void;
  private queue: Promise<unknown> = Promise.resolve();
  private portCursor: number;

  private constructor(private readonly opts: NetworkManagerOptions) {
    this.state = loadState(opts.stateFile);
    this.ipam = new Ipam(this.state.ipam, opts.pools);
    this.nft = new NftTable(opts.table ?? 'tsswarm');
    this.log = opts.log ?? (() => undefined);
    this.reserve = opts.reservePorts ?? reserveHostPort;
    const range = opts.ephemeralRange ?? EPHEMERAL_RANGE;
    this.portCursor = range[0];
    this.dns =
      opts.dns === false
        ? undefined
        : new DnsServer({
            ...opts.dns,
            scope: (networkId, clientIp) => this.dnsScope(networkId, clientIp),
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
      const driver = req.driver ?? 'bridge';
      if (!NAME_RE.test(req.name)) throw new NetworkError(`invalid network name "${req.name}": must match ${NAME_RE.source}`, 400);
      if (this.findByName(req.name)) throw new NetworkError(`network with name ${req.name} already exists`, 409);
      if (driver !== 'bridge') throw new NetworkError(`network driver "${driver}" is not supported here (only "bridge")`, 400);
      const id = randomBytes(32).toString('hex');
      const options = req.options ?? {};
      const bridge = options[OPT_BRIDGE_NAME] ?? (this.opts.bridgePrefix ?? 'tsbr-') + id.slice(0, 10);
      try {
        checkIfname(bridge);
        mtuOf(options);
      } catch (e) {
        throw new NetworkError(`cannot create network ${req.name}: ${(e as Error).message}`, 400, { cause: e });
      }
      if (Object.values(this.state.networks).some((n) => n.bridge === bridge)) throw new NetworkError(`bridge name ${bridge} is already used by another network`, 409);
      const rec = await this.buildBridgeNetwork({
        id,
        name: req.name,
        bridge,
        subnet: req.subnet,
        gateway: req.gateway,
        internal: req.internal ?? false,
        labels: req.labels ?? {},
        options,
        predefined: false,
        dns: true,
      });
      return this.info(rec);
    });
  }

  removeNetwork(ref: string): Promise<void> {
    return this.exclusive(async () => {
      const net = this.resolve(ref);
      if (net.predefined) throw new NetworkError(`${net.name} is a pre-defined network and cannot be removed`, 403);
      const eps = this.endpointsOf(net.id);
      if (eps.length) {
        throw new NetworkError(`error while removing network: network ${net.name} id ${net.id} has active endpoints (${eps.map((e) => e.containerName).join(', ')})`, 409);
      }
      await this.teardownBridgeNetwork(net);
      delete this.state.networks[net.id];
      this.save();
    });
  }

  /** Removes user-defined networks without endpoints (optionally only those `filter` accepts); returns their names. */
  pruneNetworks(filter: (n: NetworkInfo) => boolean = () => true): Promise<string[]> {
    return this.exclusive(async () => {
      const removed: string[] = [];
      for (const net of Object.values(this.state.networks)) {
        if (net.predefined || this.endpointsOf(net.id).length || !filter(this.info(net))) continue;
        await this.teardownBridgeNetwork(net);
        delete this.state.networks[net.id];
        removed.push(net.name);
        this.save();
      }
      return removed;
    });
  }

  listNetworks(): NetworkInfo[] {
    return Object.values(this.state.networks)
      .map((n) => this.info(n))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** By exact id, exact name, or unique id prefix (Docker's order). */
  inspectNetwork(ref: string): NetworkInfo {
    return this.info(this.resolve(ref));
  }

  // ---- endpoints ------------------------------------------------------------------------------

  connect(req: ConnectRequest): Promise<Endpoint> {
    return this.exclusive(async () => {
      const net = this.resolve(req.network);
      if (net.driver !== 'bridge' || !net.bridge) {
        throw new NetworkError(`network ${net.name} (driver ${net.driver}) has no endpoints to connect; the runtime handles it`, 400);
      }
      if (this.endpointsOfContainer(req.containerId).some((e) => e.networkId === net.id)) {
        throw new NetworkError(`container ${req.containerName} is already connected to network ${net.name}`, 409);
      }
      const path = netnsPath(req.netns);
      const endpointId = randomBytes(32).toString('hex');
      let ip: string;
      try {
        ip = this.ipam.allocateAddress(net.id, req.ip);
      } catch (e) {
        throw new NetworkError((e as Error).message, req.ip ? 400 : 409, { cause: e });
      }
      const { prefix, gateway } = this.ipam.get(net.id);
      const mine = this.endpointsOfContainer(req.containerId);
      const usedIfs = new Set(mine.map((e) => e.ifname));
      let n = 0;
      while (usedIfs.has(`eth${n}`)) n++;
      const rec: EndpointRecord = {
        id: endpointId,
        networkId: net.id,
        containerId: req.containerId,
        containerName: req.containerName,
        aliases: [...(req.aliases ?? [])],
        ip,
        prefix,
        mac: macForIp(ip),
        gateway,
        ifname: `eth${n}`,
        hostIf: shortName('tsv', endpointId, 10),
        netnsPath: path,
        defaultRoute: !net.internal && !mine.some((e) => e.defaultRoute),
      };
      try {
        await connectEndpoint({
          bridge: net.bridge,
          hostIf: rec.hostIf,
          netnsPath: path,
          ifname: rec.ifname,
          ip,
          prefix,
          mac: rec.mac,
          gateway: rec.defaultRoute ? gateway : undefined,
          mtu: mtuOf(net.options),
        });
      } catch (e) {
        this.ipam.releaseAddress(net.id, ip);
        throw new NetworkError(`cannot connect container ${req.containerName} to network ${net.name}: ${(e as Error).message}`, 500, { cause: e });
      }
      this.state.endpoints[endpointId] = rec;
      if (net.dns) this.dns?.records.add(net.id, this.dnsEntry(rec));
      this.save();
      return this.endpointView(rec, net);
    });
  }

  disconnect(network: string, containerId: string): Promise<void> {
    return this.exclusive(async () => {
      const net = this.resolve(network);
      const ep = this.endpointsOfContainer(containerId).find((e) => e.networkId === net.id);
      if (!ep) throw new NetworkError(`container ${containerId} is not connected to network ${net.name}`, 404);
      await this.dropEndpoint(ep, true);
    });
  }

  /** Container stopped or removed: unpublish its ports and detach it from every network. */
  releaseContainer(containerId: string): Promise<void> {
    return this.exclusive(async () => {
      await this.unpublishLocked(containerId);
      for (const ep of this.endpointsOfContainer(containerId)) await this.dropEndpoint(ep, true);
    });
  }

  endpoints(containerId: string): Endpoint[] {
    return this.endpointsOfContainer(containerId).map((e) => this.endpointView(e, this.state.networks[e.networkId]!));
  }

  // ---- published ports ------------------------------------------------------------------------

  /**
   * Publishes ports of a connected container (DNAT to its address on its first non-internal
   * network). All or nothing: any taken port fails the whole call and nothing is left behind.
   * Returns [] when the container has no such network (Docker ignores -p there too).
   */
  publish(containerId: string, requests: readonly PortRequest[]): Promise<PortMapping[]> {
    return this.exclusive(async () => {
      const target = this.endpointsOfContainer(containerId).find((e) => !this.state.networks[e.networkId]!.internal);
      if (!target || requests.length === 0) return [];
      const existing = this.state.published[containerId];
      if (existing && existing.containerIp !== target.ip) throw new NetworkError(`container ${containerId} already publishes ports on ${existing.containerIp}`, 409);

      const taken = Object.values(this.state.published).flatMap((p) => p.mappings);
      const added: PortMapping[] = [];
      const newHolds: [string, PortHold][] = [];
      try {
        for (const req of requests) {
          const m = await this.choosePort(req, [...taken, ...added], newHolds);
          added.push(m);
        }
        await this.nft.addPorts(added.map((m) => this.nftPort(m, target.ip)));
      } catch (e) {
        for (const [, h] of newHolds) h.close();
        if (e instanceof NetworkError) throw e;
        throw new NetworkError(`cannot publish ports of container ${containerId}: ${(e as Error).message}`, e instanceof PortInUseError ? 409 : 500, { cause: e });
      }
      for (const [k, h] of newHolds) this.holds.set(k, h);
      this.state.published[containerId] = { containerIp: target.ip, mappings: [...(existing?.mappings ?? []), ...added] };
      this.save();
      return added;
    });
  }

  unpublish(containerId: string): Promise<void> {
    return this.exclusive(() => this.unpublishLocked(containerId));
  }

  ports(containerId: string): PortMapping[] {
    return [...(this.state.published[containerId]?.mappings ?? [])];
  }

  // ---- container files ------------------------------------------------------------------------

  /** /etc/resolv.conf for a container: its first DNS-enabled network's gateway, else the host's servers. */
  resolvConf(containerId: string, extra: { dns?: readonly string[]; dnsSearch?: readonly string[]; dnsOptions?: readonly string[] } = {}): string {
    const ep = this.dns ? this.endpointsOfContainer(containerId).find((e) => this.state.networks[e.networkId]?.dns) : undefined;
    let host = '';
    try {
      host = readFileSync(this.opts.hostResolvConf ?? '/etc/resolv.conf', 'utf8');
    } catch {
      // No host resolv.conf: the generator falls back to public servers.
    }
    return containerResolvConf({ hostResolvConf: host, gateway: ep?.gateway, ...extra });
  }

  /** /etc/hosts for a container. */
  hostsFile(containerId: string, hostname: string): string {
    const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters'];
    for (const ep of this.endpointsOfContainer(containerId)) lines.push(`${ep.ip}\t${hostname}`);
    return lines.join('\n') + '\n';
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Daemon shutdown: stop DNS and drop port holds. Kernel state stays so containers keep working. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      for (const h of this.holds.values()) h.close();
      this.holds.clear();
      await this.dns?.close();
    });
  }

  /** Removes everything this manager made (endpoints, bridges, nftables table) and empties the state. */
  teardown(): Promise<void> {
    return this.exclusive(async () => {
      for (const h of this.holds.values()) h.close();
      this.holds.clear();
      await this.dns?.close();
      const errors: string[] = [];
      for (const ep of Object.values(this.state.endpoints)) await disconnectEndpoint(ep.hostIf).catch((e: Error) => errors.push(e.message));
      for (const n of Object.values(this.state.networks)) if (n.bridge) await deleteLink(n.bridge).catch((e: Error) => errors.push(e.message));
      await this.nft.deleteTable().catch((e: Error) => errors.push(e.message));
      this.state = { ...this.state, networks: {}, endpoints: {}, published: {}, ipam: { networks: {} } };
      this.ipam = new Ipam(undefined, this.opts.pools);
      this.save();
      if (errors.length) throw new NetworkError(`network teardown incomplete: ${errors.join('; ')}`);
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
    const links = new Set(await listLinks());

    // Endpoints whose host veth is gone lost their container while we were not looking.
    for (const ep of Object.values(this.state.endpoints)) {
      if (!links.has(ep.hostIf)) {
        this.log(`dropping stale endpoint ${ep.containerName} on ${ep.networkId} (${ep.hostIf} is gone)`);
        this.forgetEndpoint(ep);
      }
    }
    const bridges = Object.values(this.state.networks).filter((n) => n.driver === 'bridge' && n.bridge);
    for (const n of bridges) {
      if (links.has(n.bridge!)) continue;
      const { gateway, prefix } = this.ipam.get(n.id);
      await createBridge({ name: n.bridge!, gateway, prefix, mac: macForIp(gateway), mtu: mtuOf(n.options) });
    }
    if (bridges.length) await sysctl(Object.fromEntries(bridges.map((n) => [`net.ipv4.conf.${n.bridge}.route_localnet`, '1'])));
    await this.nft.replaceAll(
      bridges.map((n) => this.nftNetwork(n)),
      Object.values(this.state.published).flatMap((p) => p.mappings.map((m) => this.nftPort(m, p.containerIp))),
    );

    if (!Object.values(this.state.networks).some((n) => n.predefined)) await this.createPredefined();

    for (const n of Object.values(this.state.networks)) {
      if (!n.dns || !this.dns || !n.gateway) continue;
      for (const ep of this.endpointsOf(n.id)) this.dns.records.add(n.id, this.dnsEntry(ep));
      // Containers keep working without names, so a DNS bind failure must not stop the daemon.
      await this.dns.listen(n.id, n.gateway, this.opts.dnsPort ?? 53).catch((e: Error) => this.log(e.message));
    }
    for (const p of Object.values(this.state.published)) {
      for (const m of p.mappings) {
        try {
          this.holds.set(mappingKey(m), await this.reserve(m.proto, m.hostIp, m.hostPort));
        } catch (e) {
          this.log(`published port ${mappingKey(m)} is still forwarded but could not be held: ${(e as Error).message}`);
        }
      }
    }
    this.save();
  }

  private async createPredefined(): Promise<void> {
    const now = new Date().toISOString();
    const base = { internal: false, labels: {}, options: {}, predefined: true, dns: false, created: now };
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      const id = randomBytes(32).toString('hex');
      this.state.networks[id] = { id, name, driver, ...base };
    }
    const bridge = this.opts.defaultBridge ?? 'tsw0';
    // A fresh state with the bridge already there: an earlier daemon lost its state (data root
    // wiped, or another data root with the same names). The name is ours; take it back if nothing
    // is plugged into it, and refuse rather than cut off someone's containers if something is.
    if ((await listLinks()).includes(bridge)) {
      const ports = (await run('ip', ['-o', 'link', 'show', 'master', bridge])).trim();
      if (ports) {
        throw new NetworkError(
          `bridge ${bridge} already exists with interfaces attached: another tsswarm daemon (with another --data-root) may be using it; stop that daemon, or remove the bridge with: ip link del ${bridge}`,
          409,
        );
      }
      this.log(`removing bridge ${bridge} left by an earlier daemon`);
      await deleteLink(bridge);
    }
    await this.buildBridgeNetwork({
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

  private async buildBridgeNetwork(p: Omit<NetworkRecord, 'driver' | 'created' | 'subnet' | 'gateway'> & { subnet?: string; gateway?: string }): Promise<NetworkRecord> {
    const undo: (() => Promise<unknown>)[] = [];
    try {
      let addr;
      try {
        addr = this.ipam.allocateSubnet(p.id, { subnet: p.subnet, gateway: p.gateway, avoid: p.subnet ? [] : await this.hostRoutes() });
      } catch (e) {
        throw new NetworkError(`cannot create network ${p.name}: ${(e as Error).message}`, 400, { cause: e });
      }
      undo.push(async () => this.ipam.releaseSubnet(p.id));
      const rec: NetworkRecord = { ...p, driver: 'bridge', subnet: addr.subnet, gateway: addr.gateway, created: new Date().toISOString() };
      await createBridge({ name: p.bridge!, gateway: addr.gateway, prefix: addr.prefix, mac: macForIp(addr.gateway), mtu: mtuOf(p.options) });
      undo.push(() => deleteLink(p.bridge!));
      // 127.0.0.1-sourced packets DNAT'd to a container must be routable out of this bridge.
      await sysctl({ [`net.ipv4.conf.${p.bridge}.route_localnet`]: '1' });
      await this.nft.addNetwork(this.nftNetwork(rec));
      undo.push(() => this.nft.removeNetwork(this.nftNetwork(rec)));
      if (rec.dns && this.dns) {
        await this.dns.listen(rec.id, addr.gateway, this.opts.dnsPort ?? 53);
        undo.push(() => this.dns!.unlisten(rec.id));
      }
      this.state.networks[rec.id] = rec;
      this.save();
      return rec;
    } catch (e) {
      for (const u of undo.reverse()) await u().catch((ue: Error) => this.log(`rollback of network ${p.name}: ${ue.message}`));
      if (e instanceof NetworkError) throw e;
      throw new NetworkError(`cannot create network ${p.name}: ${(e as Error).message}`, 500, { cause: e });
    }
  }

  private async teardownBridgeNetwork(net: NetworkRecord): Promise<void> {
    if (net.driver !== 'bridge' || !net.bridge) return;
    await this.dns?.unlisten(net.id);
    this.dns?.records.removeNetwork(net.id);
    await this.nft.removeNetwork(this.nftNetwork(net));
    await deleteLink(net.bridge);
    this.ipam.releaseSubnet(net.id);
  }

  private async dropEndpoint(ep: EndpointRecord, save: boolean): Promise<void> {
    const pub = this.state.published[ep.containerId];
    if (pub && pub.containerIp === ep.ip) await this.unpublishLocked(ep.containerId);
    await disconnectEndpoint(ep.hostIf);
    this.forgetEndpoint(ep);
    if (save) this.save();
  }

  private forgetEndpoint(ep: EndpointRecord): void {
    this.ipam.releaseAddress(ep.networkId, ep.ip);
    this.dns?.records.remove(ep.networkId, ep.id);
    delete this.state.endpoints[ep.id];
    const pub = this.state.published[ep.containerId];
    // On restore the kernel table is rebuilt from state, so stale mappings just vanish with it.
    if (pub && pub.containerIp === ep.ip) delete this.state.published[ep.containerId];
  }

  private async unpublishLocked(containerId: string): Promise<void> {
    const pub = this.state.published[containerId];
    if (!pub) return;
    await this.nft.removePorts(pub.mappings.map((m) => this.nftPort(m, pub.containerIp)));
    for (const m of pub.mappings) {
      this.holds.get(mappingKey(m))?.close();
      this.holds.delete(mappingKey(m));
    }
    delete this.state.published[containerId];
    this.save();
  }

  private async choosePort(req: PortRequest, taken: readonly PortMapping[], newHolds: [string, PortHold][]): Promise<PortMapping> {
    const range = this.opts.ephemeralRange ?? EPHEMERAL_RANGE;
    const any = req.hostPortMin === 0;
    const candidates = candidatePorts(req, this.portCursor, range);
    let lastError: Error | undefined;
    for (const port of candidates) {
      const m: PortMapping = { proto: req.proto, containerPort: req.containerPort, hostIp: req.hostIp, hostPort: port };
      const clash = taken.find((t) => bindingsClash(t, m));
      if (clash) {
        lastError = new PortInUseError(portInUseMessage(m, `published by another container as ${mappingKey(clash)}`));
        continue;
      }
      try {
        const hold = await this.reserve(m.proto, m.hostIp, m.hostPort);
        newHolds.push([mappingKey(m), hold]);
        if (any) this.portCursor = port === range[1] ? range[0] : port + 1;
        return m;
      } catch (e) {
        lastError = e as Error;
        if (!(e instanceof PortInUseError)) break;
      }
    }
    const what = any ? `any free port in ${range[0]}-${range[1]}` : req.hostPortMin === req.hostPortMax ? `${req.hostIp}:${req.hostPortMin}` : `${req.hostIp}:${req.hostPortMin}-${req.hostPortMax}`;
    throw new NetworkError(
      lastError && candidates.length === 1 ? lastError.message : `no usable host port for ${req.containerPort}/${req.proto} (${what}): ${lastError?.message ?? 'empty range'}`,
      409,
      { cause: lastError },
    );
  }

  private dnsScope(networkId: string, clientIp: string): string[] {
    const ep = this.endpointsOf(networkId).find((e) => e.ip === clientIp);
    if (!ep) return [networkId];
    const others = this.endpointsOfContainer(ep.containerId)
      .map((e) => e.networkId)
      .filter((id) => id !== networkId && this.state.networks[id]?.dns);
    return [networkId, ...others];
  }

  private dnsEntry(ep: EndpointRecord): { id: string; ip: string; names: string[] } {
    return { id: ep.id, ip: ep.ip, names: [ep.containerName, ...ep.aliases, ep.containerId.slice(0, 12)] };
  }

  private nftNetwork(n: NetworkRecord): NftNetwork {
    return { bridge: n.bridge!, subnet: n.subnet!, internal: n.internal };
  }

  private nftPort(m: PortMapping, containerIp: string): NftPort {
    return { proto: m.proto, hostIp: m.hostIp, hostPort: m.hostPort, containerIp, containerPort: m.containerPort };
  }

  private endpointView(e: EndpointRecord, net: NetworkRecord): Endpoint {
    return { endpointId: e.id, networkId: net.id, networkName: net.name, ip: e.ip, prefix: e.prefix, gateway: e.gateway, mac: e.mac, ifname: e.ifname };
  }

  private endpointsOf(networkId: string): EndpointRecord[] {
    return Object.values(this.state.endpoints).filter((e) => e.networkId === networkId);
  }

  private endpointsOfContainer(containerId: string): EndpointRecord[] {
    // Insertion order = connect order, which decides eth numbering and the default route.
    return Object.values(this.state.endpoints).filter((e) => e.containerId === containerId);
  }

  private findByName(name: string): NetworkRecord | undefined {
    return Object.values(this.state.networks).find((n) => n.name === name);
  }

  private resolve(ref: string): NetworkRecord {
    const byId = this.state.networks[ref] ?? this.findByName(ref);
    if (byId) return byId;
    const byPrefix = ref.length >= 1 ? Object.values(this.state.networks).filter((n) => n.id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw new NetworkError(`network ${ref} is ambiguous (${byPrefix.length} matches)`, 400);
    throw new NetworkError(`network ${ref} not found`, 404);
  }

  private info(n: NetworkRecord): NetworkInfo {
    const containers: NetworkInfo['containers'] = {};
    for (const e of this.endpointsOf(n.id)) containers[e.containerId] = { name: e.containerName, endpointId: e.id, ip: e.ip, prefix: e.prefix, mac: e.mac, aliases: [...e.aliases] };
    return { ...n, labels: { ...n.labels }, options: { ...n.options }, containers };
  }
}

/** The Docker Engine API shape of a network (GET /networks/{id}). */
export function toDockerNetwork(n: NetworkInfo): Record<string, unknown> {
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway }] : [] },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: Object.fromEntries(
      Object.entries(n.containers).map(([id, c]) => [id, { Name: c.name, EndpointID: c.endpointId, MacAddress: c.mac, IPv4Address: `${c.ip}/${c.prefix}`, IPv6Address: '' }]),
    ),
    Options: n.options,
    Labels: n.labels,
  };
}
