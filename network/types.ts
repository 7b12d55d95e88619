// The network service's request and view types, shared by its modules and its callers.

import type { NetworkRecord } from './state.js';

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
