// Docker's published-port syntax (-p, -P, EXPOSE) and the port mapping shapes. Pure; shared by the
// CLIs, which check flags before sending, and the daemon (network/ports.ts chooses host ports).

import { InvalidArgumentError } from '../lib/errors.js';
import { isIpv4 } from '../lib/ipv4.js';

export type Proto = 'tcp' | 'udp' | 'sctp';
export const PROTOS: readonly Proto[] = ['tcp', 'udp', 'sctp'];

export class PortSpecError extends InvalidArgumentError {
  constructor(message: string) {
    super(message);
    this.name = 'PortSpecError';
  }
}

/** One container port to publish; the host side is a port range to choose from (0..0 = any free port). */
export interface PortRequest {
  proto: Proto;
  containerPort: number;
  /** "0.0.0.0" means every host address. */
  hostIp: string;
  hostPortMin: number;
  hostPortMax: number;
}

/** A decided mapping, as programmed into the kernel and reported by `docker port`. */
export interface PortMapping {
  proto: Proto;
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

const FORM = '[IP:][HOST[-RANGE]:]CONTAINER[-RANGE][/tcp|udp|sctp]';

function fail(flag: string, value: string, why: string): never {
  throw new PortSpecError(`invalid ${flag} value "${value}": ${why} (expected ${FORM})`);
}

function parseRange(flag: string, value: string, text: string, what: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) fail(flag, value, `${what} "${text}" is not a port or port range`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  for (const p of [lo, hi]) if (p < 1 || p > 65535) fail(flag, value, `${what} ${p} is out of range 1-65535`);
  if (hi < lo) fail(flag, value, `${what} range ${text} ends before it starts`);
  return [lo, hi];
}

function parseProto(flag: string, value: string, text: string | undefined): Proto {
  if (text === undefined || text === '') return 'tcp';
  const p = text.toLowerCase();
  if (!(PROTOS as readonly string[]).includes(p)) fail(flag, value, `unknown protocol "${text}"`);
  return p as Proto;
}

/** Parses one `-p` value into one request per container port. */
export function parsePublish(value: string): PortRequest[] {
  const flag = '-p';
  const v = value.trim();
  if (v === '') fail(flag, value, 'empty');
  if (v.startsWith('[')) fail(flag, value, 'IPv6 host addresses are not supported');

  const slash = v.lastIndexOf('/');
  const body = slash >= 0 ? v.slice(0, slash) : v;
  const proto = parseProto(flag, value, slash >= 0 ? v.slice(slash + 1) : undefined);

  const parts = body.split(':');
  let ipText = '';
  let hostText = '';
  let containerText: string;
  if (parts.length === 1) {
    containerText = parts[0]!;
  } else if (parts.length === 2) {
    [hostText, containerText] = parts as [string, string];
  } else if (parts.length === 3) {
    [ipText, hostText, containerText] = parts as [string, string, string];
    if (ipText === '') fail(flag, value, 'empty host IP');
  } else {
    fail(flag, value, 'too many ":"');
  }
  if (ipText !== '' && !isIpv4(ipText)) fail(flag, value, `"${ipText}" is not an IPv4 address`);
  if (containerText === '') fail(flag, value, 'missing container port');

  const [cLo, cHi] = parseRange(flag, value, containerText, 'container port');
  const hostIp = ipText || '0.0.0.0';
  const count = cHi - cLo + 1;
  if (hostText === '') {
    return portsBetween(cLo, cHi).map((c) => ({ proto, containerPort: c, hostIp, hostPortMin: 0, hostPortMax: 0 }));
  }
  const [hLo, hHi] = parseRange(flag, value, hostText, 'host port');
  const hostCount = hHi - hLo + 1;
  if (count === 1) {
    // A host range with one container port means "any free port of that range", as in Docker.
    return [{ proto, containerPort: cLo, hostIp, hostPortMin: hLo, hostPortMax: hHi }];
  }
  if (hostCount !== count) {
    fail(flag, value, `host range ${hostText} has ${hostCount} ports but container range ${containerText} has ${count}`);
  }
  return portsBetween(cLo, cHi).map((c, i) => ({ proto, containerPort: c, hostIp, hostPortMin: hLo + i, hostPortMax: hLo + i }));
}

/** Every port from lo to hi, inclusive. */
export function portsBetween(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let p = lo; p <= hi; p++) out.push(p);
  return out;
}

/** `-P`: every exposed port ("80", "80/tcp", "53/udp", "8000-8002/tcp") on a free host port of every address. */
export function publishAll(exposed: readonly string[]): PortRequest[] {
  const out: PortRequest[] = [];
  for (const e of exposed) {
    const slash = e.lastIndexOf('/');
    const body = slash >= 0 ? e.slice(0, slash) : e;
    const proto = parseProto('EXPOSE', e, slash >= 0 ? e.slice(slash + 1) : undefined);
    const [lo, hi] = parseRange('EXPOSE', e, body, 'port');
    for (const c of portsBetween(lo, hi)) out.push({ proto, containerPort: c, hostIp: '0.0.0.0', hostPortMin: 0, hostPortMax: 0 });
  }
  return out;
}

/** Renders a mapping like `docker port`: "80/tcp -> 0.0.0.0:8080". */
export function formatMapping(m: PortMapping): string {
  return `${m.containerPort}/${m.proto} -> ${m.hostIp}:${m.hostPort}`;
}
