// Persistent records of the network manager, stored as one JSON file written atomically.

import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../lib/atomic.js';
import type { IpamState } from './ipam.js';
import type { PortMapping } from './ports.js';

/** A registered driver's name (driver.ts), or `host`/`null` for the predefined networks of those modes. */
export type DriverName = string;

export interface NetworkRecord {
  id: string;
  name: string;
  driver: DriverName;
  /** Kernel bridge name (bridge driver only). */
  bridge?: string;
  subnet?: string;
  gateway?: string;
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** The default `bridge`, `host`, `none`: cannot be removed. */
  predefined: boolean;
  /** Embedded DNS answers on the gateway (user-defined bridges, like Docker). */
  dns: boolean;
  created: string;
}

export interface EndpointRecord {
  id: string;
  networkId: string;
  containerId: string;
  containerName: string;
  aliases: string[];
  ip: string;
  prefix: number;
  mac: string;
  gateway: string;
  /** Name inside the container (eth0…). */
  ifname: string;
  /** Host side of the veth pair. */
  hostIf: string;
  netnsPath: string;
  /** This endpoint carries the container's default route. */
  defaultRoute: boolean;
}

export interface PublishedRecord {
  containerIp: string;
  mappings: PortMapping[];
}

export interface ManagerState {
  version: 1;
  networks: Record<string, NetworkRecord>;
  endpoints: Record<string, EndpointRecord>;
  /** containerId → published ports */
  published: Record<string, PublishedRecord>;
  ipam: IpamState;
}

export function emptyState(): ManagerState {
  return { version: 1, networks: {}, endpoints: {}, published: {}, ipam: { networks: {} } };
}

export function loadState(path: string): ManagerState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new Error(`cannot read network state ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const s = JSON.parse(text) as ManagerState;
    if (s.version !== 1) throw new Error(`unknown version ${String(s.version)}`);
    return { ...emptyState(), ...s };
  } catch (e) {
    throw new Error(`corrupt network state ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Temp file, fsync, rename: a crash leaves either the old or the new state, never a torn file. */
export function saveState(path: string, state: ManagerState): void {
  writeFileAtomicSync(path, JSON.stringify(state, null, 2), 0o600, 0o777);
}
