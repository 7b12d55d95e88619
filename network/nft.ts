// Our nftables table: egress masquerade, isolation between bridges, published ports by DNAT.
// Everything network- or container-specific lives in sets, maps and per-bridge chains reached via
// verdict maps, so adding/removing a network or a port mapping only adds/deletes elements and
// its own chains; the base chains are written once. Text generation is pure; `NftTable` applies.

import { nftApply } from './exec.js';
import type { Proto } from './ports.js';

export interface NftNetwork {
  bridge: string;
  subnet: string;
  internal: boolean;
  /** Containers on the bridge may reach each other (Docker's enable_icc); default true. */
  icc?: boolean;
}

export interface NftPort {
  proto: Proto;
  /** "0.0.0.0" = every local address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,30}$/;
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

function checkTable(table: string): void {
  if (!NAME_RE.test(table)) throw new Error(`invalid nftables table name "${table}"`);
}

function checkBridge(bridge: string): void {
  if (!IFNAME_RE.test(bridge)) throw new Error(`invalid bridge name "${bridge}"`);
}

function chainIn(bridge: string): string {
  return `in_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

function chainOut(bridge: string): string {
  return `out_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Base definition: sets, maps and hooked chains (rendered only into an empty table). */
function renderBase(table: string): string {
  const t = `inet ${table}`;
  return [
    `add table ${t}`,
    `add set ${t} bridges { type ifname; }`,
    `add set ${t} nets { type ipv4_addr; flags interval; }`,
    `add set ${t} masq_nets { type ipv4_addr; flags interval; }`,
    `add map ${t} pub_any { type inet_proto . inet_service : ipv4_addr . inet_service; }`,
    `add map ${t} pub_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }`,
    `add map ${t} fwd_in { type ifname : verdict; }`,
    `add map ${t} fwd_out { type ifname : verdict; }`,
    `add chain ${t} published`,
    `add chain ${t} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain ${t} output { type nat hook output priority -100; policy accept; }`,
    `add chain ${t} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${t} forward { type filter hook forward priority filter; policy accept; }`,
    `add rule ${t} published dnat ip to ip daddr . meta l4proto . th dport map @pub_ip`,
    `add rule ${t} published dnat ip to meta l4proto . th dport map @pub_any`,
    `add rule ${t} prerouting meta nfproto ipv4 fib daddr type local jump published`,
    `add rule ${t} output meta nfproto ipv4 fib daddr type local jump published`,
    // Host-local clients (127.0.0.1) reaching a container: the container cannot answer 127.0.0.1.
    `add rule ${t} postrouting ct status dnat ip saddr 127.0.0.0/8 oifname @bridges masquerade`,
    // Hairpin: a container reaching a published port lands on its own bridge; replies must come back via us.
    `add rule ${t} postrouting ct status dnat ip saddr @nets oifname @bridges masquerade`,
    `add rule ${t} postrouting ip saddr @masq_nets oifname != @bridges masquerade`,
    `add rule ${t} forward oifname @bridges ct state established,related accept`,
    `add rule ${t} forward iifname vmap @fwd_in`,
    `add rule ${t} forward oifname vmap @fwd_out`,
  ].join('\n') + '\n';
}

/** Elements and chains of one network. */
export function renderAddNetwork(table: string, net: NftNetwork): string {
  checkTable(table);
  checkBridge(net.bridge);
  const t = `inet ${table}`;
  const b = `"${net.bridge}"`;
  const lines = [
    `add chain ${t} ${chainIn(net.bridge)}`,
    `add chain ${t} ${chainOut(net.bridge)}`,
    `flush chain ${t} ${chainIn(net.bridge)}`,
    `flush chain ${t} ${chainOut(net.bridge)}`,
    // Leaving this bridge: same bridge ok (unless inter-container communication is off: then only
    // to a published port); DNAT'd traffic to another network's published port ok; other bridges
    // never (isolation); elsewhere only if not internal. With icc off the bridge's ports are also
    // isolated (bridge-driver.ts), so frames between them never reach routing at all.
    ...(net.icc === false ? [] : [`add rule ${t} ${chainIn(net.bridge)} oifname ${b} accept`]),
    `add rule ${t} ${chainIn(net.bridge)} ct status dnat oifname @bridges accept`,
    `add rule ${t} ${chainIn(net.bridge)} oifname @bridges drop`,
    `add rule ${t} ${chainIn(net.bridge)} ${net.internal ? 'drop' : 'accept'}`,
    // Entering this bridge from elsewhere: only published ports (and replies, accepted earlier).
    ...(net.internal ? [] : [`add rule ${t} ${chainOut(net.bridge)} ct status dnat accept`]),
    `add rule ${t} ${chainOut(net.bridge)} drop`,
    `add element ${t} bridges { ${b} }`,
    `add element ${t} nets { ${net.subnet} }`,
    ...(net.internal ? [] : [`add element ${t} masq_nets { ${net.subnet} }`]),
    `add element ${t} fwd_in { ${b} : jump ${chainIn(net.bridge)} }`,
    `add element ${t} fwd_out { ${b} : jump ${chainOut(net.bridge)} }`,
  ];
  return lines.join('\n') + '\n';
}

export function renderRemoveNetwork(table: string, net: NftNetwork): string {
  checkTable(table);
  checkBridge(net.bridge);
  const t = `inet ${table}`;
  const b = `"${net.bridge}"`;
  // References (verdict map elements) go before the chains they point at.
  const lines = [
    `delete element ${t} fwd_in { ${b} }`,
    `delete element ${t} fwd_out { ${b} }`,
    `delete element ${t} bridges { ${b} }`,
    `delete element ${t} nets { ${net.subnet} }`,
    ...(net.internal ? [] : [`delete element ${t} masq_nets { ${net.subnet} }`]),
    `flush chain ${t} ${chainIn(net.bridge)}`,
    `flush chain ${t} ${chainOut(net.bridge)}`,
    `delete chain ${t} ${chainIn(net.bridge)}`,
    `delete chain ${t} ${chainOut(net.bridge)}`,
  ];
  return lines.join('\n') + '\n';
}

function portKey(p: NftPort): { map: string; key: string } {
  return p.hostIp === '0.0.0.0'
    ? { map: 'pub_any', key: `${p.proto} . ${p.hostPort}` }
    : { map: 'pub_ip', key: `${p.hostIp} . ${p.proto} . ${p.hostPort}` };
}

export function renderAddPorts(table: string, ports: readonly NftPort[]): string {
  checkTable(table);
  return ports
    .map((p) => {
      const { map, key } = portKey(p);
      return `add element inet ${table} ${map} { ${key} : ${p.containerIp} . ${p.containerPort} }\n`;
    })
    .join('');
}

export function renderRemovePorts(table: string, ports: readonly NftPort[]): string {
  checkTable(table);
  return ports
    .map((p) => {
      const { map, key } = portKey(p);
      return `delete element inet ${table} ${map} { ${key} }\n`;
    })
    .join('');
}

/** Whole table from scratch, replacing whatever is there, in one transaction (start-up, restore). */
export function renderTable(table: string, nets: readonly NftNetwork[], ports: readonly NftPort[]): string {
  checkTable(table);
  return renderDeleteTable(table) + renderBase(table) + nets.map((n) => renderAddNetwork(table, n)).join('') + renderAddPorts(table, ports);
}

/** Deletes the table; the leading `add` makes this succeed when it does not exist. */
export function renderDeleteTable(table: string): string {
  checkTable(table);
  return `add table inet ${table}\ndelete table inet ${table}\n`;
}

/** Applies generated scripts to one table, each call one atomic `nft -f -`. */
export class NftTable {
  constructor(
    readonly table: string,
    private readonly netns?: string,
  ) {
    checkTable(table);
  }

  replaceAll(nets: readonly NftNetwork[], ports: readonly NftPort[]): Promise<string> {
    return this.apply(renderTable(this.table, nets, ports), 'replace table');
  }

  addNetwork(net: NftNetwork): Promise<string> {
    return this.apply(renderAddNetwork(this.table, net), `add network ${net.bridge}`);
  }

  removeNetwork(net: NftNetwork): Promise<string> {
    return this.apply(renderRemoveNetwork(this.table, net), `remove network ${net.bridge}`);
  }

  addPorts(ports: readonly NftPort[]): Promise<string> {
    return ports.length ? this.apply(renderAddPorts(this.table, ports), 'publish ports') : Promise.resolve('');
  }

  removePorts(ports: readonly NftPort[]): Promise<string> {
    return ports.length ? this.apply(renderRemovePorts(this.table, ports), 'unpublish ports') : Promise.resolve('');
  }

  deleteTable(): Promise<string> {
    return this.apply(renderDeleteTable(this.table), 'delete table');
  }

  private async apply(script: string, what: string): Promise<string> {
    try {
      return await nftApply(script, this.netns);
    } catch (e) {
      throw new Error(`nftables ${what} (table inet ${this.table}) failed: ${(e as Error).message}`, { cause: e });
    }
  }
}
