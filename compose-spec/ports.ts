// Port syntax: [[host_ip:][published]:]target[/protocol], with ranges, the number form, and the
// long form. A container range expands to one entry per port, as docker compose does.
import { isIP } from 'node:net';
import type { Port } from './model.js';

export class PortError extends Error {}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

function parseRange(s: string, what: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new PortError(`'${spec}' is not a port mapping: invalid ${what} '${s}'`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || b > 65535 || b < a) throw new PortError(`'${spec}' is not a port mapping: invalid ${what} '${s}'`);
  return [a, b];
}

function protocolOf(p: string | undefined, spec: string): Port['protocol'] {
  const proto = (p ?? 'tcp').toLowerCase();
  if (!PROTOCOLS.has(proto)) throw new PortError(`'${spec}' is not a port mapping: unknown protocol '${p}'`);
  return proto as Port['protocol'];
}

export function parsePortString(spec: string): Port[] {
  let rest = spec.trim();
  let proto: string | undefined;
  const slash = rest.lastIndexOf('/');
  if (slash !== -1) {
    proto = rest.slice(slash + 1);
    rest = rest.slice(0, slash);
  }
  const protocol = protocolOf(proto, spec);
  let hostIp: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1 || rest[close + 1] !== ':') throw new PortError(`'${spec}' is not a port mapping`);
    hostIp = rest.slice(1, close);
    rest = rest.slice(close + 2);
    if (rest.split(':').length !== 2) throw new PortError(`'${spec}' is not a port mapping`);
  }
  const parts = rest.split(':');
  let published: string | undefined;
  let target: string;
  if (hostIp !== undefined) {
    [published, target] = parts as [string, string];
  } else if (parts.length === 1) {
    target = parts[0]!;
  } else if (parts.length === 2) {
    [published, target] = parts as [string, string];
  } else if (parts.length === 3) {
    [hostIp, published, target] = parts as [string, string, string];
  } else {
    // An unbracketed IPv6 address: everything before the last two parts.
    hostIp = parts.slice(0, -2).join(':');
    published = parts[parts.length - 2];
    target = parts[parts.length - 1]!;
  }
  if (hostIp !== undefined && isIP(hostIp) === 0) throw new PortError(`'${spec}' is not a port mapping: '${hostIp}' is not an IP address`);
  if (published === '') published = undefined;
  const [t0, t1] = parseRange(target, 'container port', spec);
  const base = { protocol, mode: 'ingress' as const, ...(hostIp !== undefined ? { host_ip: hostIp } : {}) };
  if (published === undefined) {
    const out: Port[] = [];
    for (let p = t0; p <= t1; p++) out.push({ target: p, ...base });
    return out;
  }
  const [h0, h1] = parseRange(published, 'host port', spec);
  if (t0 === t1) return [{ target: t0, published: h0 === h1 ? String(h0) : `${h0}-${h1}`, ...base }];
  if (h1 - h0 !== t1 - t0) throw new PortError(`'${spec}' is not a port mapping: host and container port ranges differ in size`);
  const out: Port[] = [];
  for (let i = 0; i <= t1 - t0; i++) out.push({ target: t0 + i, published: String(h0 + i), ...base });
  return out;
}

export interface LongPort {
  name?: unknown;
  mode?: unknown;
  host_ip?: unknown;
  target?: unknown;
  published?: unknown;
  protocol?: unknown;
  app_protocol?: unknown;
}

export function parsePortObject(p: LongPort): Port {
  const desc = JSON.stringify(p);
  if (p.target === undefined) throw new PortError(`${desc} is not a port mapping: target is required`);
  const target = Number(p.target);
  if (!Number.isInteger(target) || target < 1 || target > 65535) throw new PortError(`invalid target port '${String(p.target)}'`);
  const out: Port = { target, protocol: protocolOf(p.protocol === undefined ? undefined : String(p.protocol), desc), mode: 'ingress' };
  if (p.published !== undefined && p.published !== '') {
    const pub = String(p.published);
    const [a, b] = parseRange(pub, 'published port', pub);
    out.published = a === b ? String(a) : `${a}-${b}`;
  }
  if (p.host_ip !== undefined) {
    const ip = String(p.host_ip);
    if (isIP(ip) === 0) throw new PortError(`'${ip}' is not an IP address`);
    out.host_ip = ip;
  }
  if (p.mode !== undefined) {
    if (p.mode !== 'ingress' && p.mode !== 'host') throw new PortError(`mode must be 'ingress' or 'host', got '${String(p.mode)}'`);
    out.mode = p.mode;
  }
  if (p.name !== undefined) out.name = String(p.name);
  if (p.app_protocol !== undefined) out.app_protocol = String(p.app_protocol);
  return out;
}

export function parsePort(v: unknown): Port[] {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 65535) throw new PortError(`'${v}' is not a port`);
    return [{ target: v, protocol: 'tcp', mode: 'ingress' }];
  }
  if (typeof v === 'string') return parsePortString(v);
  return [parsePortObject(v as LongPort)];
}

/** What makes two port entries the same binding (later files replace earlier ones). */
export function portKey(p: Port): string {
  return `${p.host_ip ?? ''}|${p.published ?? ''}|${p.target}|${p.protocol}`;
}

/** expose entries: "80", "80/udp", "8000-8010". */
export function checkExpose(v: string): string {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535 || (m[2] !== undefined && (Number(m[2]) < Number(m[1]) || Number(m[2]) > 65535))) {
    throw new PortError(`'${v}' is not a port or port range`);
  }
  return v;
}
