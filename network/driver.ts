// The contract between the network service (manager.ts) and a network driver, and the registry that
// picks a driver by name (`network create -d NAME`).
//
// The service owns everything driver-independent: records and persistence, IPAM (subnets and
// addresses are chosen before a driver is called), DNS, published ports, serialisation of calls and
// events. A driver owns only the kernel objects that make its kind of network exist, and follows
// these rules:
//   - Every method either completes or leaves nothing behind (it rolls back its own partial work).
//   - Methods are called one at a time (the service serialises), never concurrently.
//   - Errors it throws are NetworkError (errors.ts) with a kind, or plain Errors the service wraps
//     as internal; messages name the object (bridge, interface, netns) and what failed.
//   - It names kernel objects only with the prefixes it is configured with, and never touches
//     objects it did not make (README.md, "Naming and clean-up").

import { NetworkError } from './errors.js';
import type { EndpointRecord, NetworkRecord } from './state.js';

/** Addresses IPAM assigned to a network before the driver builds it. */
export interface NetworkAddressing {
  subnet: string;
  gateway: string;
  prefix: number;
}

/** A service's virtual address and the endpoints behind it (for VIP load-balancing). */
export interface ServiceAddress {
  serviceId: string;
  vip: string;
  backends: readonly string[];
}

export interface NetworkDriver {
  /** The `-d` name, stored as NetworkRecord.driver. */
  readonly name: string;

  /**
   * Checks a create request's driver options and picks the driver's own record fields (e.g. the
   * bridge name) without touching the kernel. `others` are the existing networks, for name clashes.
   * Throws NetworkError kind invalid (bad option) or conflict (name taken).
   */
  plan(req: { id: string; name: string; options: Record<string, string> }, others: readonly NetworkRecord[]): Pick<NetworkRecord, 'bridge'>;

  /** Builds the network's kernel objects for a record whose addressing IPAM has decided. */
  create(net: NetworkRecord, addr: NetworkAddressing): Promise<void>;

  /**
   * Removes the network's kernel objects. With `shared: 'going'` the objects shared by all networks
   * of this driver (e.g. the nftables table) are about to be removed whole, so per-network entries
   * in them need not be.
   */
  delete(net: NetworkRecord, opts?: { shared?: 'going' }): Promise<void>;

  /** Plugs an endpoint (addresses already allocated) into the container's netns `ep.netnsPath`. */
  join(net: NetworkRecord, ep: EndpointRecord): Promise<void>;

  /** Unplugs an endpoint of `net`. Succeeds when it is already gone (its netns died with the container). */
  leave(net: NetworkRecord, ep: EndpointRecord): Promise<void>;

  /**
   * After a daemon restart: rebuilds missing kernel objects of `nets` and reports the endpoints
   * whose link vanished while the daemon was down (the service then forgets them).
   */
  restore(nets: readonly NetworkRecord[], endpoints: readonly EndpointRecord[]): Promise<{ stale: EndpointRecord[] }>;

  /**
   * Programmes service virtual addresses on a network (swarm VIPs). A driver that cannot must throw
   * NetworkError kind invalid saying so, never ignore the call.
   */
  programmeServiceAddresses(net: NetworkRecord, services: readonly ServiceAddress[]): Promise<void>;
}

/** Drivers by name. `host` and `null` are not drivers: their predefined networks are special-cased. */
export class DriverRegistry {
  private readonly drivers = new Map<string, NetworkDriver>();

  register(driver: NetworkDriver): this {
    if (this.drivers.has(driver.name)) throw new Error(`network driver "${driver.name}" is registered twice`);
    this.drivers.set(driver.name, driver);
    return this;
  }

  find(name: string): NetworkDriver | undefined {
    return this.drivers.get(name);
  }

  /** For `network create -d NAME`; the message is the one the engine has always answered. */
  forCreate(name: string): NetworkDriver {
    const d = this.drivers.get(name);
    if (d) return d;
    const names = [...this.drivers.keys()].map((n) => `"${n}"`);
    const known = names.length === 1 ? `only ${names[0]}` : `one of ${names.join(', ')}`;
    throw new NetworkError('invalid', `network driver "${name}" is not supported here (${known})`);
  }

  names(): string[] {
    return [...this.drivers.keys()];
  }
}
