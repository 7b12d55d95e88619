// A starting container's networking: its endpoints on each network, its published ports, and the
// hosts and resolv.conf files the spec bind-mounts (written once the endpoints exist).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetworkManager } from '../../network/manager.js';
import { publishAll, type PortRequest, type Proto } from '../../network/ports.js';
import type { ContainerRecord } from './record.js';

/** Connects the container (its init is `pid`) to each of its networks and publishes its ports. */
export async function connectNetworks(network: NetworkManager, c: ContainerRecord, pid: number): Promise<void> {
  for (const [net, ep] of Object.entries(c.Networks)) {
    await network.connect({
      network: net,
      containerId: c.Id,
      containerName: c.Name,
      netns: { pid },
      aliases: [...ep.Aliases, c.Config.Hostname !== c.Name ? c.Config.Hostname : ''].filter((a) => a && a !== c.Name),
      ...(ep.IPv4Address ? { ip: ep.IPv4Address } : {}),
    });
  }
  const reqs = portRequests(c);
  if (reqs.length) await network.publish(c.Id, reqs);
}

/**
 * Fills `dir`'s hosts and resolv.conf: the host's resolv.conf for host networking, else the network
 * manager's view (peers, --add-host lines, --dns options).
 */
export async function writeNameFiles(network: NetworkManager, c: ContainerRecord, dir: string, hostname: string, hostNetwork: boolean): Promise<void> {
  const h = c.HostConfig;
  if (hostNetwork) {
    await writeFile(join(dir, 'resolv.conf'), await readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
    return;
  }
  const extraHosts = (h.ExtraHosts ?? []).map((e) => {
    const i = e.indexOf(':');
    return `${e.slice(i + 1)}\t${e.slice(0, i)}`;
  });
  await Promise.all([
    writeFile(join(dir, 'hosts'), network.hostsFile(c.Id, hostname) + extraHosts.map((l) => l + '\n').join('')),
    writeFile(
      join(dir, 'resolv.conf'),
      network.resolvConf(c.Id, { ...(h.Dns ? { dns: h.Dns } : {}), ...(h.DnsSearch ? { dnsSearch: h.DnsSearch } : {}), ...(h.DnsOptions ? { dnsOptions: h.DnsOptions } : {}) }),
    ),
  ]);
}

/** The port publications of -p and -P (PublishAllPorts: every exposed port not bound explicitly). */
export function portRequests(c: ContainerRecord): PortRequest[] {
  const out: PortRequest[] = [];
  const bound = new Set<string>();
  for (const [key, binds] of Object.entries(c.HostConfig.PortBindings ?? {})) {
    const [p, proto = 'tcp'] = key.split('/') as [string, string | undefined];
    bound.add(`${p}/${proto}`);
    for (const b of binds.length ? binds : [{}]) {
      const hp = b.HostPort ?? '';
      const [lo, hi] = hp ? hp.split('-').map(Number) : [0, 0];
      out.push({ proto: proto as Proto, containerPort: Number(p), hostIp: b.HostIp || '0.0.0.0', hostPortMin: lo ?? 0, hostPortMax: hi ?? lo ?? 0 });
    }
  }
  if (c.HostConfig.PublishAllPorts) {
    out.push(...publishAll(Object.keys(c.Config.ExposedPorts).filter((k) => !bound.has(k.includes('/') ? k : `${k}/tcp`))));
  }
  return out;
}
