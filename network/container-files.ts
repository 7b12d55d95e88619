// The /etc/resolv.conf and /etc/hosts a container gets from its networks.

import { readFileSync } from 'node:fs';
import { containerResolvConf } from './dns/records.js';
import type { EndpointRecord } from './state.js';

export interface ResolvExtras {
  dns?: readonly string[];
  dnsSearch?: readonly string[];
  dnsOptions?: readonly string[];
}

/** `dnsGateway`: the gateway of the container's first DNS-enabled network, if the DNS server runs. */
export function resolvConfFor(hostResolvConfPath: string, dnsGateway: string | undefined, extra: ResolvExtras): string {
  let host = '';
  try {
    host = readFileSync(hostResolvConfPath, 'utf8');
  } catch {
    // No host resolv.conf: the generator falls back to public servers.
  }
  return containerResolvConf({ hostResolvConf: host, gateway: dnsGateway, ...extra });
}

export function hostsFileFor(endpoints: readonly EndpointRecord[], hostname: string): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters'];
  for (const ep of endpoints) lines.push(`${ep.ip}\t${hostname}`);
  return lines.join('\n') + '\n';
}
