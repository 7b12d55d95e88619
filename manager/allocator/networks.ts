// Overlay network resources, cluster-wide (pure): each swarm network's subnet and gateway (from the
// cluster's default address pool, or as given, never overlapping another) and VXLAN ID (from 4096);
// each task's address on each of its networks; each service's virtual IP per network. What is in use
// is read from the stored objects, so deleting a task or network releases its addresses with it.
import { ConflictError, InvalidArgumentError } from '../../lib/errors.js';
import { cidrsOverlap, formatCidr, formatIp, lastAddress, parseCidr, parseIp, type Cidr } from '../../network/ipam.js';

export const VXLAN_OPTION = 'com.docker.network.driver.overlay.vxlanid_list';
export const FIRST_VNI = 4096;
/** The ingress network's subnet, as Docker's default. */
export const INGRESS_SUBNET = '10.0.0.0/24';

export interface NetworkAddressing {
  Subnet: string;
  Gateway: string;
  VNI: number;
}

/** A stored network's allocation, as far as this module needs it. */
export interface AllocatedNetwork {
  ID: string;
  Name: string;
  Subnet: string;
  VNI: number;
}

/**
 * Subnet, gateway and VNI for a new network. `want` is what the user asked (`--subnet`, `--gateway`);
 * `pools` the cluster's default address pools, carved in /`size` subnets.
 */
export function allocateNetwork(name: string, want: { Subnet?: string; Gateway?: string }, existing: readonly AllocatedNetwork[], pools: readonly string[], size: number): NetworkAddressing {
  const taken = existing.map((n) => ({ n, c: parseCidr(n.Subnet, false) }));
  let subnet: Cidr;
  if (want.Subnet) {
    try {
      subnet = parseCidr(want.Subnet);
    } catch (e) {
      throw new InvalidArgumentError(`network ${name}: invalid --subnet ${want.Subnet}: ${(e as Error).message}`);
    }
    if (subnet.prefix > 29) throw new InvalidArgumentError(`network ${name}: subnet ${want.Subnet} is too small (at most /29)`);
    const clash = taken.find((t) => cidrsOverlap(t.c, subnet));
    if (clash) throw new ConflictError(`network ${name}: subnet ${want.Subnet} overlaps with network ${clash.n.Name} (${clash.n.Subnet})`);
  } else {
    const found = freeSubnet(taken.map((t) => t.c), pools, size);
    if (!found) throw new ConflictError(`network ${name}: could not find an available, non-overlapping IPv4 address pool among the defaults (${pools.join(', ')} in /${size}s) to assign to the network`);
    subnet = found;
  }
  let gateway = formatIp(subnet.base + 1);
  if (want.Gateway) {
    const g = parseIp(want.Gateway);
    if (g <= subnet.base || g >= lastAddress(subnet)) throw new InvalidArgumentError(`network ${name}: gateway ${want.Gateway} is not a host address of ${formatCidr(subnet)}`);
    gateway = want.Gateway;
  }
  const vnis = new Set(existing.map((n) => n.VNI));
  let vni = FIRST_VNI;
  while (vnis.has(vni)) vni++;
  return { Subnet: formatCidr(subnet), Gateway: gateway, VNI: vni };
}

function freeSubnet(taken: readonly Cidr[], pools: readonly string[], size: number): Cidr | undefined {
  for (const p of pools) {
    const pool = parseCidr(p, false);
    if (size < pool.prefix || size > 29) continue;
    const step = 2 ** (32 - size);
    for (let base = pool.base; base + step - 1 <= lastAddress(pool); base += step) {
      const c = { base: base >>> 0, prefix: size };
      if (!taken.some((t) => cidrsOverlap(t, c))) return c;
    }
  }
  return undefined;
}

/**
 * Hands out host addresses of one network: never the network address, the gateway or broadcast,
 * nor one already in `used`. Each call marks its result used.
 */
export class AddressPool {
  private readonly cidr: Cidr;
  private next: number;

  constructor(
    readonly network: { Name: string; Subnet: string; Gateway: string },
    private readonly used: Set<string>,
  ) {
    this.cidr = parseCidr(network.Subnet, false);
    used.add(network.Gateway);
    this.next = this.cidr.base + 1;
  }

  /** `ip/prefix`; throws naming the network when it is full. */
  take(): string {
    const last = lastAddress(this.cidr);
    for (let tries = 0; tries < last - this.cidr.base; tries++) {
      if (this.next >= last) this.next = this.cidr.base + 1;
      const ip = formatIp(this.next++);
      if (this.used.has(ip)) continue;
      this.used.add(ip);
      return `${ip}/${this.cidr.prefix}`;
    }
    throw new ConflictError(`network ${this.network.Name} (${this.network.Subnet}) has no free address left`);
  }
}

/** The address part of `ip/prefix`. */
export const hostOf = (addr: string): string => addr.split('/')[0]!;
