// `tsswarm network …`, `tsswarm volume …`, `tsswarm system df|prune`, `tsswarm container …`.
import { FlagError } from '../../lib/flags.js';
import { formatInspect, formatList } from '../../lib/format/index.js';
import { humanSize } from '../../lib/units.js';
import { group, bool, client, eachArg, enc, filtersParam, list, needArgs, parse, parseFilters, str } from './common.js';


function keyValues(items: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of items) {
    const eq = i.indexOf('=');
    if (eq === 0) throw new FlagError(`invalid argument "${i}" for "${flag}" flag: expected KEY=VALUE`);
    if (eq < 0) out[i] = '';
    else out[i.slice(0, eq)] = i.slice(eq + 1);
  }
  return out;
}

async function inspectMany(argv: string[], cmd: string, path: (n: string) => string): Promise<number> {
  const usage = `tsswarm ${cmd} [OPTIONS] NAME [NAME...]`;
  const p = parse(argv, usage, [{ name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' }]);
  if (!p) return 0;
  needArgs(p, 1, cmd, usage);
  const c = client();
  const items: unknown[] = [];
  let code = 0;
  for (const a of p.args) {
    try {
      items.push(await c.call(path(enc(a))));
    } catch (e) {
      process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
      code = 1;
    }
  }
  if (items.length) process.stdout.write(formatInspect(str(p, 'format'), items));
  return code;
}

/** Labels as Docker's list formatters print them: k=v joined by commas. */
function labelsText(labels: Record<string, string> | null | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

interface NetView {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Internal: boolean;
  Labels: Record<string, string>;
  Created: string;
}

export const network = group('network', {
  create: async (argv) => {
    const usage = 'tsswarm network create [OPTIONS] NETWORK';
    const p = parse(argv, usage, [
      { name: 'driver', short: 'd', type: 'string', description: 'Driver to manage the Network (default "bridge")' },
      { name: 'subnet', type: 'string', description: 'Subnet in CIDR format that represents a network segment' },
      { name: 'gateway', type: 'string', description: 'IPv4 Gateway for the master subnet' },
      { name: 'internal', type: 'bool', description: 'Restrict external access to the network' },
      { name: 'attachable', type: 'bool', description: 'Enable manual container attachment (overlay networks)' },
      { name: 'label', type: 'list', description: 'Set metadata on a network' },
      { name: 'opt', short: 'o', type: 'list', description: 'Set driver specific options' },
    ]);
    if (!p) return 0;
    needArgs(p, 1, 'network create', usage);
    const subnet = str(p, 'subnet');
    const gateway = str(p, 'gateway');
    const r = await client().call<{ Id: string }>('/networks/create', {
      method: 'POST',
      body: {
        Name: p.args[0],
        Driver: str(p, 'driver') ?? 'bridge',
        Internal: bool(p, 'internal'),
        ...(bool(p, 'attachable') ? { Attachable: true } : {}),
        Labels: keyValues(list(p, 'label'), '--label'),
        Options: keyValues(list(p, 'opt'), '-o, --opt'),
        ...(subnet || gateway ? { IPAM: { Config: [{ ...(subnet ? { Subnet: subnet } : {}), ...(gateway ? { Gateway: gateway } : {}) }] } } : {}),
      },
    });
    process.stdout.write(`${r.Id}\n`);
    return 0;
  },
  ls: async (argv) => {
    const p = parse(argv, 'tsswarm network ls [OPTIONS]', [
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only display network IDs' },
      { name: 'format', type: 'string', description: 'Pretty-print networks using a Go template' },
      { name: 'filter', short: 'f', type: 'list', description: 'Provide filter values (e.g. "driver=bridge")' },
      { name: 'no-trunc', type: 'bool', description: 'Do not truncate the output' },
    ]);
    if (!p) return 0;
    const filters = parseFilters(list(p, 'filter'));
    const nets = await client().call<NetView[]>('/networks', { query: { filters: filtersParam(filters) } });
    const rows = nets.map((n) => ({ ID: bool(p, 'no-trunc') ? n.Id : n.Id.slice(0, 12), Name: n.Name, Driver: n.Driver, Scope: n.Scope, Internal: String(n.Internal), IPv6: 'false', Labels: labelsText(n.Labels), CreatedAt: n.Created }));
    if (bool(p, 'quiet') && !str(p, 'format')) {
      process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
      return 0;
    }
    process.stdout.write(formatList(str(p, 'format'), rows, { defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', headers: { ID: 'NETWORK ID' }, rowType: '*formatter.networkContext' }));
    return 0;
  },
  inspect: (argv) => inspectMany(argv, 'network inspect', (n) => `/networks/${n}`),
  rm: async (argv) => {
    const usage = 'tsswarm network rm NETWORK [NETWORK...]';
    const p = parse(argv, usage, [{ name: 'force', short: 'f', type: 'bool', description: 'Do not error if the network does not exist' }]);
    if (!p) return 0;
    needArgs(p, 1, 'network rm', usage);
    const c = client();
    return eachArg(p.args, async (a) => {
      await c.call(`/networks/${enc(a)}`, { method: 'DELETE' });
      return a;
    });
  },
  connect: async (argv) => {
    const usage = 'tsswarm network connect [OPTIONS] NETWORK CONTAINER';
    const p = parse(argv, usage, [
      { name: 'alias', type: 'list', description: 'Add network-scoped alias for the container' },
      { name: 'ip', type: 'string', description: 'IPv4 address (e.g., "172.30.100.104")' },
    ]);
    if (!p) return 0;
    needArgs(p, 2, 'network connect', usage);
    const ip = str(p, 'ip');
    await client().call(`/networks/${enc(p.args[0]!)}/connect`, {
      method: 'POST',
      body: { Container: p.args[1], EndpointConfig: { Aliases: list(p, 'alias'), ...(ip ? { IPAMConfig: { IPv4Address: ip } } : {}) } },
    });
    return 0;
  },
  disconnect: async (argv) => {
    const usage = 'tsswarm network disconnect [OPTIONS] NETWORK CONTAINER';
    const p = parse(argv, usage, [{ name: 'force', short: 'f', type: 'bool', description: 'Force the container to disconnect from a network' }]);
    if (!p) return 0;
    needArgs(p, 2, 'network disconnect', usage);
    await client().call(`/networks/${enc(p.args[0]!)}/disconnect`, { method: 'POST', body: { Container: p.args[1], Force: bool(p, 'force') } });
    return 0;
  },
  prune: async (argv) => {
    const p = parse(argv, 'tsswarm network prune [OPTIONS]', [{ name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' }]);
    if (!p) return 0;
    const r = await client().call<{ NetworksDeleted: string[] }>('/networks/prune', { method: 'POST' });
    if (r.NetworksDeleted.length) process.stdout.write(`Deleted Networks:\n${r.NetworksDeleted.map((n) => `${n}\n`).join('')}`);
    return 0;
  },
});

interface VolView {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Labels: Record<string, string>;
  Scope: string;
  CreatedAt: string;
}

export const volume = group('volume', {
  create: async (argv) => {
    const p = parse(argv, 'tsswarm volume create [OPTIONS] [VOLUME]', [
      { name: 'driver', short: 'd', type: 'string', description: 'Specify volume driver name (default "local")' },
      { name: 'label', type: 'list', description: 'Set metadata for a volume' },
      { name: 'opt', short: 'o', type: 'list', description: 'Set driver specific options' },
      { name: 'name', type: 'string', description: 'Specify volume name' },
    ]);
    if (!p) return 0;
    const name = p.args[0] ?? str(p, 'name');
    const opts = keyValues(list(p, 'opt'), '-o, --opt');
    const v = await client().call<VolView>('/volumes/create', {
      method: 'POST',
      body: { ...(name ? { Name: name } : {}), Driver: str(p, 'driver') ?? 'local', Labels: keyValues(list(p, 'label'), '--label'), ...(Object.keys(opts).length ? { DriverOpts: opts } : {}) },
    });
    process.stdout.write(`${v.Name}\n`);
    return 0;
  },
  ls: async (argv) => {
    const p = parse(argv, 'tsswarm volume ls [OPTIONS]', [
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only display volume names' },
      { name: 'format', type: 'string', description: 'Pretty-print volumes using a Go template' },
      { name: 'filter', short: 'f', type: 'list', description: 'Provide filter values (e.g. "dangling=true")' },
    ]);
    if (!p) return 0;
    const filters = parseFilters(list(p, 'filter'));
    const r = await client().call<{ Volumes: VolView[] }>('/volumes', { query: { filters: filtersParam(filters) } });
    const rows = r.Volumes.map((v) => ({ Driver: v.Driver, Name: v.Name, Mountpoint: v.Mountpoint, Scope: v.Scope, CreatedAt: v.CreatedAt, Labels: labelsText(v.Labels), Links: 'N/A', Size: 'N/A' }));
    if (bool(p, 'quiet') && !str(p, 'format')) {
      process.stdout.write(rows.map((x) => `${x.Name}\n`).join(''));
      return 0;
    }
    process.stdout.write(formatList(str(p, 'format'), rows, { defaultTable: 'table {{.Driver}}\t{{.Name}}', headers: { Name: 'VOLUME NAME' }, rowType: '*formatter.volumeContext' }));
    return 0;
  },
  inspect: (argv) => inspectMany(argv, 'volume inspect', (n) => `/volumes/${n}`),
  rm: async (argv) => {
    const usage = 'tsswarm volume rm [OPTIONS] VOLUME [VOLUME...]';
    const p = parse(argv, usage, [{ name: 'force', short: 'f', type: 'bool', description: 'Force the removal of one or more volumes' }]);
    if (!p) return 0;
    needArgs(p, 1, 'volume rm', usage);
    const c = client();
    return eachArg(p.args, async (a) => {
      await c.call(`/volumes/${enc(a)}`, { method: 'DELETE', query: { force: bool(p, 'force') ? 1 : undefined } });
      return a;
    });
  },
  prune: async (argv) => {
    const p = parse(argv, 'tsswarm volume prune [OPTIONS]', [
      { name: 'all', short: 'a', type: 'bool', description: 'Remove all unused volumes, not just anonymous ones' },
      { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
    ]);
    if (!p) return 0;
    const r = await client().call<{ VolumesDeleted: string[]; SpaceReclaimed: number }>('/volumes/prune', {
      method: 'POST',
      query: { filters: bool(p, 'all') ? JSON.stringify({ all: ['true'] }) : undefined },
    });
    if (r.VolumesDeleted.length) process.stdout.write(`Deleted Volumes:\n${r.VolumesDeleted.map((n) => `${n}\n`).join('')}\n`);
    process.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
    return 0;
  },
});

interface Df {
  LayersSize: number;
  Images: { Containers: number; Size: number }[];
  Containers: { State: string; SizeRw: number }[];
  Volumes: { UsageData: { Size: number; RefCount: number } }[];
}

export const system = group('system', {
  df: async (argv) => {
    const p = parse(argv, 'tsswarm system df [OPTIONS]', [{ name: 'format', type: 'string', description: 'Format output using a custom template' }]);
    if (!p) return 0;
    const d = await client().call<Df>('/system/df');
    const c = client();
    const used = new Set((await c.call<{ ImageID: string }[]>('/containers/json', { query: { all: 1 } })).map((x) => x.ImageID));
    const imgs = await c.call<{ Id: string; Size: number }[]>('/images/json');
    const imgActive = imgs.filter((i) => used.has(i.Id));
    const pct = (part: number, all: number): string => (all > 0 ? ` (${Math.round((part / all) * 100)}%)` : '');
    const reclaimImg = imgs.filter((i) => !used.has(i.Id)).reduce((s, i) => s + i.Size, 0);
    const cSize = d.Containers.reduce((s, x) => s + x.SizeRw, 0);
    const cReclaim = d.Containers.filter((x) => x.State !== 'running').reduce((s, x) => s + x.SizeRw, 0);
    const vSize = d.Volumes.reduce((s, v) => s + v.UsageData.Size, 0);
    const vReclaim = d.Volumes.filter((v) => v.UsageData.RefCount === 0).reduce((s, v) => s + v.UsageData.Size, 0);
    const rows = [
      { Type: 'Images', TotalCount: String(imgs.length), Active: String(imgActive.length), Size: humanSize(d.LayersSize), Reclaimable: humanSize(reclaimImg) + pct(reclaimImg, d.LayersSize) },
      { Type: 'Containers', TotalCount: String(d.Containers.length), Active: String(d.Containers.filter((x) => x.State === 'running').length), Size: humanSize(cSize), Reclaimable: humanSize(cReclaim) + pct(cReclaim, cSize) },
      { Type: 'Local Volumes', TotalCount: String(d.Volumes.length), Active: String(d.Volumes.filter((v) => v.UsageData.RefCount > 0).length), Size: humanSize(vSize), Reclaimable: humanSize(vReclaim) + pct(vReclaim, vSize) },
    ];
    process.stdout.write(formatList(str(p, 'format'), rows, { defaultTable: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}', headers: { TotalCount: 'TOTAL' } }));
    return 0;
  },
  prune: async (argv) => {
    const p = parse(argv, 'tsswarm system prune [OPTIONS]', [
      { name: 'all', short: 'a', type: 'bool', description: 'Remove all unused images not just dangling ones' },
      { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
      { name: 'volumes', type: 'bool', description: 'Prune anonymous volumes' },
    ]);
    if (!p) return 0;
    const c = client();
    const cs = await c.call<{ ContainersDeleted: string[] }>('/containers/prune', { method: 'POST' });
    const ns = await c.call<{ NetworksDeleted: string[] }>('/networks/prune', { method: 'POST' });
    const vs = bool(p, 'volumes') ? await c.call<{ VolumesDeleted: string[]; SpaceReclaimed: number }>('/volumes/prune', { method: 'POST' }) : undefined;
    const is = await c.call<{ ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed: number }>('/images/prune', {
      method: 'POST',
      query: { filters: bool(p, 'all') ? JSON.stringify({ dangling: ['false'] }) : undefined },
    });
    if (cs.ContainersDeleted.length) process.stdout.write(`Deleted Containers:\n${cs.ContainersDeleted.map((x) => `${x}\n`).join('')}\n`);
    if (ns.NetworksDeleted.length) process.stdout.write(`Deleted Networks:\n${ns.NetworksDeleted.map((x) => `${x}\n`).join('')}\n`);
    if (vs?.VolumesDeleted.length) process.stdout.write(`Deleted Volumes:\n${vs.VolumesDeleted.map((x) => `${x}\n`).join('')}\n`);
    if (is.ImagesDeleted?.length) process.stdout.write(`Deleted Images:\n${is.ImagesDeleted.map((x) => (x.Untagged ? `untagged: ${x.Untagged}\n` : `deleted: ${x.Deleted}\n`)).join('')}\n`);
    process.stdout.write(`Total reclaimed space: ${humanSize(is.SpaceReclaimed + (vs?.SpaceReclaimed ?? 0))}\n`);
    return 0;
  },
});
