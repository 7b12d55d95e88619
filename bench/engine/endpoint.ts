// One container endpoint (veth pair, bridge port, address, links up, default route), connected and
// deleted n times in namespaces of our own, by the tsnetlink helper and by the `ip -batch` fallback:
// the network part of the daemon's `run --rm` on a bridge, alone.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connectEndpoint, createBridge, deleteLink } from '../../network/link.js';
import { netlinkHelperPath } from '../../network/netlink-helper.js';

export interface EndpointTimes {
  helper: number[];
  ip: number[];
}

export async function endpointRuns(n: number): Promise<EndpointTimes | undefined> {
  const helper = netlinkHelperPath();
  if (!helper) return undefined;
  const tag = `tsbe${randomBytes(3).toString('hex')}`;
  const hostNs = `${tag}-h`;
  const ctrNs = `${tag}-c`;
  const hostPath = `/run/netns/${hostNs}`;
  const saved = process.env.TSSWARM_TSNETLINK;
  execFileSync('ip', ['netns', 'add', hostNs]);
  execFileSync('ip', ['netns', 'add', ctrNs]);
  const times: EndpointTimes = { helper: [], ip: [] };
  try {
    await createBridge({ name: `${tag}br`, gateway: '10.232.0.1', prefix: 24 }, hostPath);
    const ep = { bridge: `${tag}br`, hostIf: `${tag}v`, netnsPath: `/run/netns/${ctrNs}`, ifname: 'eth0', ip: '10.232.0.2', prefix: 24, mac: '02:42:0a:e8:00:02', gateway: '10.232.0.1' };
    // Alternating, so a slow spell of the machine hits both alike; the first 3 of each are warm-up.
    for (let i = 0; i < n + 3; i++) {
      for (const way of ['helper', 'ip'] as const) {
        process.env.TSSWARM_TSNETLINK = way === 'ip' ? 'off' : helper;
        const t0 = performance.now();
        await connectEndpoint(ep, hostPath);
        const t = performance.now() - t0;
        await deleteLink(ep.hostIf, hostPath);
        if (i >= 3) times[way].push(t);
      }
    }
  } finally {
    if (saved === undefined) delete process.env.TSSWARM_TSNETLINK;
    else process.env.TSSWARM_TSNETLINK = saved;
    for (const ns of [hostNs, ctrNs]) execFileSync('ip', ['netns', 'del', ns]);
  }
  return times;
}
