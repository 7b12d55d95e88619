// Bridges and veth endpoints. An endpoint (the hot path: one per container start) is made over
// rtnetlink by the tsnetlink helper, one child kept for the purpose (no process per endpoint).
// Without the helper, and for bridges, each operation is one `ip -batch -` per namespace it touches
// (iproute2 6.1 has no per-line netns switch in batch mode, so an endpoint then takes one batch on
// the host side and one inside the container's namespace). Either way a failed step rolls back what
// the earlier ones made.

import { createHash } from 'node:crypto';
import { CommandError, ipBatch, run } from './exec.js';
import { createLogger } from '../lib/log.js';
import { delArgs, netlinkHelperPath, netlinkServer, releaseArgs, vethArgs } from './netlink-helper.js';

const log = createLogger('network.link');
let warnedNoHelper = false;

/** The helper, or undefined (logged once) when only `ip` is there. */
function helper(): string | undefined {
  const path = netlinkHelperPath();
  if (!path && !warnedNoHelper && process.env.TSSWARM_TSNETLINK !== 'off') {
    warnedNoHelper = true;
    log.warn('tsnetlink helper not found (run node scripts/build.mjs); endpoints are set up with ip, two processes each');
  }
  return path;
}

const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

export function checkIfname(name: string): void {
  if (!IFNAME_RE.test(name)) throw new Error(`invalid interface name "${name}": 1-15 characters of [A-Za-z0-9_.-]`);
}

/** Deterministic short kernel names (Linux ifnames are at most 15 characters). */
export function shortName(prefix: string, id: string, hexChars = 8): string {
  const name = prefix + createHash('sha256').update(id).digest('hex').slice(0, hexChars);
  checkIfname(name);
  return name;
}

/** 1-based line of an `ip -batch` script that failed ("Command failed -:3"), or undefined. */
export function failedBatchLine(stderr: string): number | undefined {
  const m = /Command failed -:(\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

function isNoDevice(e: unknown): boolean {
  return e instanceof CommandError && /Cannot find device|does not exist/i.test(e.stderr);
}

export interface BridgeSpec {
  name: string;
  gateway: string;
  prefix: number;
  /** Fixed MAC; without one a bridge takes its ports' lowest MAC, which changes as they come and go. */
  mac?: string;
  mtu?: number;
}

export function bridgeCreateScript(b: BridgeSpec): string {
  checkIfname(b.name);
  const mtu = b.mtu ? ` mtu ${b.mtu}` : '';
  const mac = b.mac ? ` address ${b.mac}` : '';
  return [
    `link add name ${b.name}${mtu}${mac} type bridge stp_state 0 forward_delay 0`,
    `addr add ${b.gateway}/${b.prefix} dev ${b.name}`,
    `link set dev ${b.name} up`,
  ].join('\n') + '\n';
}

/** Creates and brings up a bridge holding the gateway address. `hostNetns` is for tests. */
export async function createBridge(b: BridgeSpec, hostNetns?: string): Promise<void> {
  try {
    await ipBatch(bridgeCreateScript(b), hostNetns);
  } catch (e) {
    // Line 1 is the creation: if it failed the name belonged to someone else and must not be deleted.
    const line = e instanceof CommandError ? failedBatchLine(e.stderr) : undefined;
    if (line !== undefined && line > 1) await deleteLink(b.name, hostNetns).catch(() => undefined);
    throw new Error(`cannot create bridge ${b.name} (${b.gateway}/${b.prefix}): ${(e as Error).message}`, { cause: e });
  }
}

/** Deletes a link; a link that is already gone is fine. */
export async function deleteLink(name: string, hostNetns?: string): Promise<void> {
  checkIfname(name);
  const h = helper();
  if (h) return netlinkServer(h).request(delArgs(name, hostNetns));
  try {
    await ipBatch(`link del dev ${name}\n`, hostNetns);
  } catch (e) {
    if (!isNoDevice(e)) throw e;
  }
}

export interface EndpointSpec {
  bridge: string;
  /** Host-side veth name (e.g. from shortName('tsv', endpointId)). */
  hostIf: string;
  /** Container netns as a path: /proc/PID/ns/net, /run/netns/NAME, or a bind-mounted file. */
  netnsPath: string;
  /** Name inside the container, e.g. eth0. */
  ifname: string;
  ip: string;
  prefix: number;
  mac: string;
  /** Default route via this gateway; omitted for an internal network or a secondary network. */
  gateway?: string;
  mtu?: number;
}

export function endpointHostScript(ep: EndpointSpec): string {
  checkIfname(ep.hostIf);
  checkIfname(ep.ifname);
  checkIfname(ep.bridge);
  if (/\s/.test(ep.netnsPath)) throw new Error(`invalid netns path "${ep.netnsPath}"`);
  const mtu = ep.mtu ? ` mtu ${ep.mtu}` : '';
  // The peer is born inside the container namespace with its final name and MAC: no rename step,
  // and no window where a half-configured device sits in the host namespace.
  return [
    `link add name ${ep.hostIf}${mtu} type veth peer name ${ep.ifname}${mtu} address ${ep.mac} netns ${ep.netnsPath}`,
    `link set dev ${ep.hostIf} master ${ep.bridge}`,
    `link set dev ${ep.hostIf} up`,
  ].join('\n') + '\n';
}

export function endpointContainerScript(ep: EndpointSpec): string {
  const lines = [`addr add ${ep.ip}/${ep.prefix} dev ${ep.ifname}`, `link set dev ${ep.ifname} up`, `link set dev lo up`];
  if (ep.gateway) lines.push(`route replace default via ${ep.gateway} dev ${ep.ifname}`);
  return lines.join('\n') + '\n';
}

/** Creates the veth pair, plugs the host side into the bridge and configures the container side. */
export async function connectEndpoint(ep: EndpointSpec, hostNetns?: string): Promise<void> {
  const what = `cannot attach ${ep.ifname} (${ep.ip}) in ${ep.netnsPath} to bridge ${ep.bridge}`;
  // Same checks as the scripts: names reach the helper as arguments and must be valid ifnames.
  endpointHostScript(ep);
  const h = helper();
  if (h) {
    try {
      await netlinkServer(h).request(vethArgs(ep, hostNetns));
    } catch (e) {
      // The helper has already rolled back what it made (or says it could not).
      throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
    }
    return;
  }
  try {
    await ipBatch(endpointHostScript(ep), hostNetns);
  } catch (e) {
    const line = e instanceof CommandError ? failedBatchLine(e.stderr) : undefined;
    if (line !== undefined && line > 1) await deleteLink(ep.hostIf, hostNetns).catch(() => undefined);
    throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
  }
  try {
    await ipBatch(endpointContainerScript(ep), ep.netnsPath);
  } catch (e) {
    // Deleting the host end takes the peer inside the container with it.
    await deleteLink(ep.hostIf, hostNetns).catch(() => undefined);
    throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Takes an endpoint's host end away. With the helper it is off the bridge and down when this resolves
 * and gone a little later: the kernel's unregister waits ~20 ms for RCU, and the next container's
 * connect (queued behind this in the manager) should not. The name is unique to the endpoint, so
 * nothing can collide with it meanwhile.
 */
export async function disconnectEndpoint(hostIf: string, hostNetns?: string): Promise<void> {
  checkIfname(hostIf);
  const h = helper();
  if (h) return netlinkServer(h).request(releaseArgs(hostIf, hostNetns));
  await deleteLink(hostIf, hostNetns);
}

/** Names of existing links, for reconciliation on restart. */
export async function listLinks(hostNetns?: string): Promise<string[]> {
  const text = await run('ip', ['-o', 'link', 'show'], { netns: hostNetns });
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (m) names.push(m[1]!);
  }
  return names;
}
