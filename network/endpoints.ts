// The record of a new endpoint: interface name, host veth name, default route, netns path. Pure:
// addresses come from IPAM, the kernel work from the driver.

import { randomBytes } from 'node:crypto';
import { NetworkError } from './errors.js';
import { macForIp } from './ipam.js';
import { shortName } from './link.js';
import type { EndpointRecord, NetworkRecord } from './state.js';
import type { ConnectRequest, NetnsRef } from './types.js';

export function netnsPath(ref: NetnsRef): string {
  if ('pid' in ref) {
    if (!Number.isInteger(ref.pid) || ref.pid <= 0) throw new NetworkError('invalid', `invalid pid ${ref.pid}`);
    return `/proc/${ref.pid}/ns/net`;
  }
  if (!ref.path.startsWith('/') || /\s/.test(ref.path)) throw new NetworkError('invalid', `invalid netns path "${ref.path}"`);
  return ref.path;
}

export function newEndpointId(): string {
  return randomBytes(32).toString('hex');
}

/**
 * `mine`: the container's endpoints so far, in connect order. The first free ethN is taken; the
 * first non-internal network carries the default route.
 */
export function planEndpoint(
  id: string,
  net: NetworkRecord,
  req: ConnectRequest,
  addr: { ip: string; prefix: number; gateway: string },
  mine: readonly EndpointRecord[],
): EndpointRecord {
  const usedIfs = new Set(mine.map((e) => e.ifname));
  let n = 0;
  while (usedIfs.has(`eth${n}`)) n++;
  return {
    id,
    networkId: net.id,
    containerId: req.containerId,
    containerName: req.containerName,
    aliases: [...(req.aliases ?? [])],
    ip: addr.ip,
    prefix: addr.prefix,
    mac: macForIp(addr.ip),
    gateway: addr.gateway,
    ifname: `eth${n}`,
    hostIf: shortName('tsv', id, 10),
    netnsPath: netnsPath(req.netns),
    defaultRoute: !net.internal && !mine.some((e) => e.defaultRoute),
  };
}
