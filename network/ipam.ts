// IPv4 address management: CIDR math, subnet pools for new networks, per-network address
// allocation. Pure and deterministic; the caller persists `toJSON()` and passes it back in.

import { InvalidArgumentError } from '../lib/errors.js';
import { isIpv4, parseIpv4 } from '../lib/ipv4.js';

export interface Cidr {
  /** Network address as an unsigned 32-bit integer (host bits zero). */
  readonly base: number;
  readonly prefix: number;
}

// Bad input or an exhausted pool: the caller's request cannot be met as given.
export class IpamError extends InvalidArgumentError {
  constructor(message: string) {
    super(message);
    this.name = 'IpamError';
  }
}

export function parseIp(text: string): number {
  const n = parseIpv4(text);
  if (n === undefined) throw new IpamError(`invalid IPv4 address "${text}"`);
  return n;
}

export const isIp = isIpv4;

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function maskOf(prefix: number): number {
  // `>>> 0` keeps the result unsigned; prefix 0 needs its own case because JS shifts are mod 32.
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function lastAddress(c: Cidr): number {
  return c.base + cidrSize(c) - 1;
}

/** Parses "a.b.c.d/n". With `strict`, host bits must be zero (Docker refuses them too). */
export function parseCidr(text: string, strict = true): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new IpamError(`invalid subnet "${text}": expected CIDR form a.b.c.d/n`);
  const ipText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32) {
    throw new IpamError(`invalid subnet "${text}": prefix length must be 0-32`);
  }
  const prefix = Number(prefixText);
  let ip: number;
  try {
    ip = parseIp(ipText);
  } catch {
    throw new IpamError(`invalid subnet "${text}": "${ipText}" is not an IPv4 address`);
  }
  const base = (ip & maskOf(prefix)) >>> 0;
  if (strict && base !== ip) {
    throw new IpamError(`invalid subnet "${text}": host bits are set; did you mean ${formatIp(base)}/${prefix}?`);
  }
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.base <= lastAddress(b) && b.base <= lastAddress(a);
}

/** Docker-style MAC for a container address: 02:42 followed by the four IPv4 octets. */
export function macForIp(ip: string): string {
  const n = parseIp(ip);
  const bytes = [0x02, 0x42, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export interface PoolSpec {
  /** Range carved into subnets, e.g. "192.168.0.0/16". */
  base: string;
  /** Prefix length of each subnet handed out, e.g. 20. */
  size: number;
}

/** Docker's default address pools (172.17/16 first, which the default `bridge` gets). */
export const DEFAULT_POOLS: readonly PoolSpec[] = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/15', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/13', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

export interface NetworkIpamState {
  subnet: string;
  gateway: string;
  /** Addresses handed to endpoints (gateway excluded). */
  addresses: string[];
  /** Offset of the last address allocated; allocation continues after it to delay reuse. */
  last: number;
}

export interface IpamState {
  networks: Record<string, NetworkIpamState>;
}

export interface SubnetRequest {
  /** Explicit subnet (--subnet). Without it one is taken from the pools. */
  subnet?: string;
  /** Explicit gateway (--gateway); defaults to the first usable address. */
  gateway?: string;
  /** Ranges automatic allocation stays clear of, e.g. the host's routes ("10.0.0.0/8"). */
  avoid?: readonly string[];
}

export interface NetworkAddressing {
  subnet: string;
  gateway: string;
  prefix: number;
}

export class Ipam {
  private readonly networks = new Map<string, NetworkIpamState>();
  private readonly pools: readonly PoolSpec[];

  constructor(state?: IpamState, pools: readonly PoolSpec[] = DEFAULT_POOLS) {
    for (const p of pools) {
      const c = parseCidr(p.base);
      if (!Number.isInteger(p.size) || p.size < c.prefix || p.size > 30) {
        throw new IpamError(`invalid pool ${p.base} size /${p.size}: must be between /${c.prefix} and /30`);
      }
    }
    this.pools = pools;
    for (const [id, n] of Object.entries(state?.networks ?? {})) {
      this.networks.set(id, { ...n, addresses: [...n.addresses] });
    }
  }

  toJSON(): IpamState {
    const networks: Record<string, NetworkIpamState> = {};
    for (const [id, n] of this.networks) networks[id] = { ...n, addresses: [...n.addresses] };
    return { networks };
  }

  has(networkId: string): boolean {
    return this.networks.has(networkId);
  }

  get(networkId: string): NetworkAddressing {
    const n = this.require(networkId);
    return { subnet: n.subnet, gateway: n.gateway, prefix: parseCidr(n.subnet).prefix };
  }

  /** Reserves a subnet for a network: the explicit one if given (checked for overlaps), else the first free pool chunk. */
  allocateSubnet(networkId: string, req: SubnetRequest = {}): NetworkAddressing {
    if (this.networks.has(networkId)) throw new IpamError(`network ${networkId} already has addresses assigned`);
    const taken: { cidr: Cidr; owner: string }[] = [];
    for (const [id, n] of this.networks) taken.push({ cidr: parseCidr(n.subnet), owner: `network ${id}` });

    let subnet: Cidr;
    if (req.subnet !== undefined) {
      subnet = parseCidr(req.subnet);
      if (subnet.prefix > 30) throw new IpamError(`invalid subnet "${req.subnet}": prefix must be /30 or shorter to hold a gateway and an endpoint`);
      const clash = taken.find((t) => cidrsOverlap(t.cidr, subnet));
      if (clash) {
        throw new IpamError(`subnet ${req.subnet} overlaps with ${clash.owner} (${formatCidr(clash.cidr)})`);
      }
    } else {
      // Like Docker, host routes only steer automatic choice; an explicit --subnet is the user's call.
      const avoid = (req.avoid ?? []).map((a) => parseCidr(a, false));
      const found = this.findFreeChunk([...taken.map((t) => t.cidr), ...avoid]);
      if (!found) throw new IpamError('no free subnet left in the address pools; pass --subnet explicitly');
      subnet = found;
    }

    let gateway: number;
    if (req.gateway !== undefined) {
      gateway = parseIp(req.gateway);
      if (!this.isUsable(subnet, gateway)) {
        throw new IpamError(`gateway ${req.gateway} is not a usable address in subnet ${formatCidr(subnet)}`);
      }
    } else {
      gateway = subnet.base + 1;
    }
    const state: NetworkIpamState = { subnet: formatCidr(subnet), gateway: formatIp(gateway), addresses: [], last: 0 };
    this.networks.set(networkId, state);
    return { subnet: state.subnet, gateway: state.gateway, prefix: subnet.prefix };
  }

  releaseSubnet(networkId: string): void {
    this.networks.delete(networkId);
  }

  /** Hands out an address: the requested one (--ip) if free, else the next free one after the last handed out. */
  allocateAddress(networkId: string, requested?: string): string {
    const n = this.require(networkId);
    const subnet = parseCidr(n.subnet);
    const used = new Set(n.addresses.map(parseIp));
    used.add(parseIp(n.gateway));
    if (requested !== undefined) {
      const ip = parseIp(requested);
      if (!this.isUsable(subnet, ip)) throw new IpamError(`address ${requested} is not usable in subnet ${n.subnet} of network ${networkId}`);
      if (used.has(ip)) throw new IpamError(`address ${requested} is already in use on network ${networkId}`);
      n.addresses.push(requested);
      return requested;
    }
    const hosts = cidrSize(subnet) - 2;
    for (let step = 1; step <= hosts; step++) {
      const offset = ((n.last + step - 1) % hosts) + 1;
      const ip = subnet.base + offset;
      if (!used.has(ip)) {
        n.last = offset;
        const text = formatIp(ip);
        n.addresses.push(text);
        return text;
      }
    }
    throw new IpamError(`no free address left in subnet ${n.subnet} of network ${networkId}`);
  }

  releaseAddress(networkId: string, ip: string): void {
    const n = this.networks.get(networkId);
    if (!n) return;
    n.addresses = n.addresses.filter((a) => a !== ip);
  }

  private require(networkId: string): NetworkIpamState {
    const n = this.networks.get(networkId);
    if (!n) throw new IpamError(`network ${networkId} has no address space`);
    return n;
  }

  private isUsable(subnet: Cidr, ip: number): boolean {
    return ip > subnet.base && ip < lastAddress(subnet);
  }

  private findFreeChunk(taken: readonly Cidr[]): Cidr | undefined {
    for (const pool of this.pools) {
      const range = parseCidr(pool.base);
      const step = 2 ** (32 - pool.size);
      for (let base = range.base; base <= lastAddress(range); base += step) {
        const candidate: Cidr = { base, prefix: pool.size };
        if (!taken.some((t) => cidrsOverlap(t, candidate))) return candidate;
      }
    }
    return undefined;
  }
}

/** Parses `ip -4 route show` lines into destination prefixes, for `SubnetRequest.avoid`. */
export function routesFromIpRoute(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const dest = line.trim().split(/\s+/)[0];
    if (!dest || dest === 'default') continue;
    // Host routes have no "/n"; keep only IPv4 destinations.
    const cidr = dest.includes('/') ? dest : `${dest}/32`;
    try {
      parseCidr(cidr, false);
      out.push(cidr);
    } catch {
      // Non-IPv4 or odd lines (e.g. "broadcast", "local" in table dumps) are skipped.
    }
  }
  return out;
}
