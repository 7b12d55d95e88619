// The daemon's name tables and the answer logic for one query. Pure: the server decides which
// networks the asker is on (by the address the query arrived at) and what to do with a "forward".

import {
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NOTIMP,
  TYPE_A,
  TYPE_PTR,
  aRecord,
  ipFromReverse,
  normalizeName,
  ptrRecord,
  type Answer,
  type Message,
  type Question,
} from './codec.js';

export interface DnsEndpoint {
  /** Unique per endpoint (container × network). */
  id: string;
  ip: string;
  /** Container name, aliases, compose service name, short id…; one name may belong to many endpoints. */
  names: readonly string[];
}

export type Decision =
  | { kind: 'answer'; rcode: number; answers: Answer[] }
  | { kind: 'forward' };

export const LOCAL_TTL = 600;

export class DnsRecords {
  /** network → endpoint id → endpoint */
  private readonly networks = new Map<string, Map<string, DnsEndpoint>>();
  /** Round-robin counters per network/name. */
  private readonly turns = new Map<string, number>();

  add(networkId: string, ep: DnsEndpoint): void {
    let net = this.networks.get(networkId);
    if (!net) this.networks.set(networkId, (net = new Map()));
    net.set(ep.id, { ...ep, names: ep.names.map(normalizeName).filter((n) => n !== '') });
  }

  remove(networkId: string, endpointId: string): void {
    this.networks.get(networkId)?.delete(endpointId);
  }

  removeNetwork(networkId: string): void {
    this.networks.delete(networkId);
  }

  /** Addresses for a name on a network, rotated one step per call (round robin). */
  lookup(networkId: string, name: string): string[] {
    const n = normalizeName(name);
    const net = this.networks.get(networkId);
    if (!net) return [];
    // Sorting by IP makes the base order independent of insertion, so rotation is predictable.
    const ips = [...new Set([...net.values()].filter((e) => e.names.includes(n)).map((e) => e.ip))].sort(compareIps);
    if (ips.length <= 1) return ips;
    const key = `${networkId}\u0000${n}`;
    const turn = this.turns.get(key) ?? 0;
    this.turns.set(key, turn + 1);
    const k = turn % ips.length;
    return [...ips.slice(k), ...ips.slice(0, k)];
  }

  /** First name of the endpoint holding `ip` on the network (for PTR). */
  reverse(networkId: string, ip: string): string | undefined {
    for (const e of this.networks.get(networkId)?.values() ?? []) if (e.ip === ip && e.names.length) return e.names[0];
    return undefined;
  }

  knows(networkId: string, name: string): boolean {
    const n = normalizeName(name);
    for (const e of this.networks.get(networkId)?.values() ?? []) if (e.names.includes(n)) return true;
    return false;
  }

  /**
   * What to do with a query from a container on `networkIds` (all its networks, the one the query
   * arrived on first): the first network that knows the name answers it.
   */
  decide(networkIds: readonly string[], query: Message): Decision {
    if (query.opcode !== 0) return { kind: 'answer', rcode: RCODE_NOTIMP, answers: [] };
    const q: Question | undefined = query.questions[0];
    if (!q || query.questions.length !== 1) return { kind: 'answer', rcode: RCODE_FORMERR, answers: [] };

    const fromIp = ipFromReverse(q.name);
    if (fromIp !== undefined) {
      for (const net of networkIds) {
        const target = this.reverse(net, fromIp);
        if (target !== undefined) return { kind: 'answer', rcode: RCODE_NOERROR, answers: q.type === TYPE_PTR ? [ptrRecord(q.name, target, LOCAL_TTL)] : [] };
      }
      return { kind: 'forward' };
    }
    const net = networkIds.find((n) => this.knows(n, q.name));
    if (net === undefined) return { kind: 'forward' };
    // A name we own answers only A; other types (AAAA…) get an empty NOERROR rather than being
    // forwarded, so the host's resolvers never leak a different address for a container name.
    if (q.type !== TYPE_A) return { kind: 'answer', rcode: RCODE_NOERROR, answers: [] };
    return { kind: 'answer', rcode: RCODE_NOERROR, answers: this.lookup(net, q.name).map((ip) => aRecord(q.name, ip, LOCAL_TTL)) };
  }
}

function compareIps(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/** Nameservers from resolv.conf text, in order. */
export function parseResolvConf(text: string): { nameservers: string[]; search: string[]; options: string[] } {
  const nameservers: string[] = [];
  let search: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) nameservers.push(rest[0]);
    else if ((key === 'search' || key === 'domain') && rest.length) search = rest;
    else if (key === 'options') options.push(...rest);
  }
  return { nameservers, search, options };
}

/**
 * /etc/resolv.conf for a container. On a user network it points at the gateway (our server);
 * on the default bridge or with no DNS of ours it copies the host's servers, minus loopback ones
 * (unreachable from the container's namespace), falling back to public resolvers like Docker.
 */
export function containerResolvConf(opts: { hostResolvConf: string; gateway?: string; dns?: readonly string[]; dnsSearch?: readonly string[]; dnsOptions?: readonly string[] }): string {
  const host = parseResolvConf(opts.hostResolvConf);
  let servers: string[];
  if (opts.dns && opts.dns.length) servers = [...opts.dns];
  else if (opts.gateway) servers = [opts.gateway];
  else {
    servers = host.nameservers.filter((s) => !s.startsWith('127.') && s !== '::1');
    if (servers.length === 0) servers = ['8.8.8.8', '8.8.4.4'];
  }
  const search = opts.dnsSearch ?? host.search;
  const options = opts.dnsOptions ?? host.options.filter((o) => !o.startsWith('ndots'));
  const lines = ['# Generated by tsswarm', ...servers.map((s) => `nameserver ${s}`)];
  if (search.length) lines.push(`search ${search.join(' ')}`);
  // ndots:0 like Docker: a bare container name is tried as-is first, before any search suffix.
  const opt = opts.gateway && !opts.dnsOptions ? ['ndots:0', ...options] : options;
  if (opt.length) lines.push(`options ${opt.join(' ')}`);
  return lines.join('\n') + '\n';
}
