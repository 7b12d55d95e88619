// `tsswarm swarm …` (and the short forms `tsswarm init` / `tsswarm join`) and `tsswarm node …`,
// with Docker's flags, texts and columns.
import { FlagError } from '../../lib/flags.js';
import { formatInspect, formatList } from '../../lib/format/index.js';
import { parseDuration } from '../../lib/units.js';
import { group, bool, client, enc, list, needArgs, parse, str } from './common.js';


interface SwarmView {
  ID: string;
  Version: { Index: number };
  Spec: Record<string, unknown> & { Dispatcher: { HeartbeatPeriod: number }; CAConfig: { NodeCertExpiry: number }; EncryptionConfig?: { AutoLockManagers: boolean } };
  JoinTokens: { Worker: string; Manager: string };
}

/** Docker's words around an unlock key (init --autolock, update --autolock=true, unlock-key). */
function unlockKeyText(key: string): string {
  return `To unlock a swarm manager after it restarts, run the \`tsswarm swarm unlock\`\ncommand and provide the following key:\n\n    ${key}\n\nPlease remember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n`;
}

interface InfoSwarm {
  NodeID: string;
  NodeAddr: string;
  LocalNodeState: string;
  ControlAvailable: boolean;
  RemoteManagers: { NodeID: string; Addr: string }[] | null;
}

async function joinCommand(role: 'worker' | 'manager', quiet: boolean): Promise<string> {
  const c = client();
  const sw = await c.call<SwarmView>('/swarm');
  const token = role === 'worker' ? sw.JoinTokens.Worker : sw.JoinTokens.Manager;
  if (quiet) return `${token}\n`;
  const info = await c.call<{ Swarm: InfoSwarm }>('/info');
  const self = info.Swarm.RemoteManagers?.find((m) => m.NodeID === info.Swarm.NodeID)?.Addr ?? `${info.Swarm.NodeAddr}:2377`;
  return `To add a ${role} to this swarm, run the following command:\n\n    tsswarm swarm join --token ${token} ${self}\n\n`;
}

const AVAILABILITY = ['active', 'pause', 'drain'];

/** A flag whose value must be one of `allowed`: Docker's "invalid argument" error otherwise. */
function oneOf(value: string, flag: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) throw new FlagError(`invalid argument "${value}" for "--${flag}" flag: want ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`);
}

const durationNs = (p: ReturnType<typeof parse>, flag: string): number | undefined => {
  const v = p && str(p, flag);
  if (v === undefined) return undefined;
  try {
    return parseDuration(v);
  } catch (e) {
    throw new FlagError(`invalid argument "${v}" for "--${flag}" flag: ${(e as Error).message}`);
  }
};

export async function init(argv: string[]): Promise<number> {
  const usage = 'tsswarm swarm init [OPTIONS]';
  const p = parse(argv, usage, [
    { name: 'advertise-addr', type: 'string', description: 'Advertised address (format: "<ip|interface>[:port]")' },
    { name: 'listen-addr', type: 'string', description: 'Listen address (format: "<ip|interface>[:port]") (default 0.0.0.0:2377)' },
    { name: 'force-new-cluster', type: 'bool', description: 'Force create a new cluster from current state' },
    { name: 'cert-expiry', type: 'string', description: 'Validity period for node certificates (ns|us|ms|s|m|h) (default 2160h0m0s)' },
    { name: 'heartbeat-period', type: 'string', description: 'Dispatcher heartbeat period (ns|us|ms|s|m|h) (default 1s)' },
    { name: 'autolock', type: 'bool', description: 'Enable manager autolocking (requiring an unlock key to start a stopped manager)' },
    { name: 'default-addr-pool', type: 'list', description: 'default address pool in CIDR format' },
    { name: 'default-addr-pool-mask-length', type: 'string', description: 'default address pool subnet mask length (default 24)' },
    { name: 'data-path-port', type: 'string', description: 'Port number to use for data path traffic (1024 - 49151)' },
  ]);
  if (!p) return 0;
  if (p.args.length) throw new FlagError(`"tsswarm swarm init" accepts no arguments.\nSee 'tsswarm swarm init --help'.`);
  const mask = str(p, 'default-addr-pool-mask-length');
  const port = str(p, 'data-path-port');
  const body = {
    ForceNewCluster: bool(p, 'force-new-cluster'),
    ListenAddr: str(p, 'listen-addr') ?? '0.0.0.0:2377',
    AdvertiseAddr: str(p, 'advertise-addr') ?? '',
    DefaultAddrPool: list(p, 'default-addr-pool'),
    SubnetSize: mask ? Number(mask) : 0,
    DataPathPort: port ? Number(port) : 0,
    Spec: {
      Dispatcher: { HeartbeatPeriod: durationNs(p, 'heartbeat-period') },
      CAConfig: { NodeCertExpiry: durationNs(p, 'cert-expiry') },
      EncryptionConfig: { AutoLockManagers: bool(p, 'autolock') },
    },
  };
  const id = await client().call<string>('/swarm/init', { method: 'POST', body });
  process.stdout.write(`Swarm initialized: current node (${id}) is now a manager.\n\n${await joinCommand('worker', false)}`);
  process.stdout.write(`To add a manager to this swarm, run 'tsswarm swarm join-token manager' and follow the instructions.\n\n`);
  if (bool(p, 'autolock')) {
    const { UnlockKey } = await client().call<{ UnlockKey: string }>('/swarm/unlockkey');
    process.stdout.write(unlockKeyText(UnlockKey));
  }
  return 0;
}

export async function join(argv: string[]): Promise<number> {
  const usage = 'tsswarm swarm join [OPTIONS] HOST:PORT';
  const p = parse(argv, usage, [
    { name: 'token', type: 'string', description: 'Token for entry into the swarm' },
    { name: 'advertise-addr', type: 'string', description: 'Advertised address (format: "<ip|interface>[:port]")' },
    { name: 'listen-addr', type: 'string', description: 'Listen address (format: "<ip|interface>[:port]") (default 0.0.0.0:2377)' },
    { name: 'availability', type: 'string', description: 'Availability of the node ("active", "pause", "drain") (default "active")' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'swarm join', usage);
  const token = str(p, 'token');
  if (!token) throw new FlagError('--token is required: the worker or manager join token (tsswarm swarm join-token worker|manager on a manager prints it)');
  const availability = str(p, 'availability') ?? 'active';
  oneOf(availability, 'availability', AVAILABILITY);
  await client().call('/swarm/join', {
    method: 'POST',
    body: { ListenAddr: str(p, 'listen-addr') ?? '0.0.0.0:2377', AdvertiseAddr: str(p, 'advertise-addr') ?? '', RemoteAddrs: [p.args[0]], JoinToken: token, Availability: availability },
  });
  const info = await client().call<{ Swarm: InfoSwarm }>('/info');
  process.stdout.write(info.Swarm.ControlAvailable ? 'This node joined a swarm as a manager.\n' : 'This node joined a swarm as a worker.\n');
  return 0;
}

export const swarm = group('swarm', {
  init,
  join,
  leave: async (argv) => {
    const p = parse(argv, 'tsswarm swarm leave [OPTIONS]', [{ name: 'force', short: 'f', type: 'bool', description: 'Force this node to leave the swarm, ignoring warnings' }]);
    if (!p) return 0;
    await client().call('/swarm/leave', { method: 'POST', query: { force: bool(p, 'force') ? '1' : undefined } });
    process.stdout.write('Node left the swarm.\n');
    return 0;
  },
  'join-token': async (argv) => {
    const usage = 'tsswarm swarm join-token [OPTIONS] (worker|manager)';
    const p = parse(argv, usage, [
      { name: 'rotate', type: 'bool', description: 'Rotate join token' },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only display token' },
    ]);
    if (!p) return 0;
    needArgs(p, 1, 'swarm join-token', usage);
    const role = p.args[0];
    if (role !== 'worker' && role !== 'manager') throw new FlagError(`unknown role ${role}`);
    if (bool(p, 'rotate')) {
      const c = client();
      const sw = await c.call<SwarmView>('/swarm');
      await c.call('/swarm/update', {
        method: 'POST',
        query: { version: String(sw.Version.Index), [role === 'worker' ? 'rotateWorkerToken' : 'rotateManagerToken']: 'true' },
        body: sw.Spec,
      });
      if (!bool(p, 'quiet')) process.stdout.write(`Successfully rotated ${role} join token.\n\n`);
    }
    process.stdout.write(await joinCommand(role, bool(p, 'quiet')));
    return 0;
  },
  update: async (argv) => {
    const p = parse(argv, 'tsswarm swarm update [OPTIONS]', [
      { name: 'autolock', type: 'bool', description: 'Change manager autolocking setting (true|false)' },
      { name: 'cert-expiry', type: 'string', description: 'Validity period for node certificates (ns|us|ms|s|m|h)' },
      { name: 'heartbeat-period', type: 'string', description: 'Dispatcher heartbeat period (ns|us|ms|s|m|h)' },
      { name: 'task-history-limit', type: 'string', description: 'Task history retention limit' },
    ]);
    if (!p) return 0;
    const c = client();
    const sw = await c.call<SwarmView>('/swarm');
    const spec = { ...sw.Spec } as SwarmView['Spec'] & { Orchestration?: { TaskHistoryRetentionLimit: number } };
    const hb = durationNs(p, 'heartbeat-period');
    if (hb !== undefined) spec.Dispatcher = { HeartbeatPeriod: hb };
    const ce = durationNs(p, 'cert-expiry');
    if (ce !== undefined) spec.CAConfig = { ...spec.CAConfig, NodeCertExpiry: ce };
    const th = str(p, 'task-history-limit');
    if (th !== undefined) spec.Orchestration = { TaskHistoryRetentionLimit: Number(th) };
    const autolock = typeof p.flags.autolock === 'boolean' ? p.flags.autolock : undefined;
    if (autolock !== undefined) spec.EncryptionConfig = { AutoLockManagers: autolock };
    await c.call('/swarm/update', { method: 'POST', query: { version: String(sw.Version.Index) }, body: spec });
    process.stdout.write('Swarm updated.\n');
    // As Docker: turning autolock on shows the key at once (it is needed at the next restart).
    if (autolock === true && !sw.Spec.EncryptionConfig?.AutoLockManagers) {
      const { UnlockKey } = await c.call<{ UnlockKey: string }>('/swarm/unlockkey');
      process.stdout.write(unlockKeyText(UnlockKey));
    }
    return 0;
  },
  'unlock-key': async (argv) => {
    const p = parse(argv, 'tsswarm swarm unlock-key [OPTIONS]', [
      { name: 'rotate', type: 'bool', description: 'Rotate unlock key' },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only display token' },
    ]);
    if (!p) return 0;
    const c = client();
    if (bool(p, 'rotate')) {
      const sw = await c.call<SwarmView>('/swarm');
      if (!sw.Spec.EncryptionConfig?.AutoLockManagers) throw new FlagError('cannot rotate because autolock is not turned on');
      await c.call('/swarm/update', { method: 'POST', query: { version: String(sw.Version.Index), rotateManagerUnlockKey: 'true' }, body: sw.Spec });
      if (!bool(p, 'quiet')) process.stdout.write('Successfully rotated manager unlock key.\n\n');
    }
    const { UnlockKey } = await c.call<{ UnlockKey: string }>('/swarm/unlockkey');
    process.stdout.write(bool(p, 'quiet') ? `${UnlockKey}\n` : unlockKeyText(UnlockKey));
    return 0;
  },
  unlock: async (argv) => {
    const p = parse(argv, 'tsswarm swarm unlock', []);
    if (!p) return 0;
    // Docker prompts on a terminal; from a pipe the key is read from stdin.
    if (process.stdin.isTTY) process.stdout.write('Please enter unlock key: ');
    const key = (await readStdin()).split('\n')[0]!.trim();
    if (!key) throw new FlagError('no unlock key given (type it, or pipe it on stdin)');
    await client().call('/swarm/unlock', { method: 'POST', body: { UnlockKey: key } });
    return 0;
  },
  ca: async (argv) => {
    const p = parse(argv, 'tsswarm swarm ca [OPTIONS]', [
      { name: 'rotate', type: 'bool', description: 'Rotate the swarm CA: a new root, every node re-certified' },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress progress output' },
    ]);
    if (!p) return 0;
    if (bool(p, 'rotate')) {
      // Docker's way: bump Spec.CAConfig.ForceRotate; the managers make a new root, every node renews,
      // and the rotation ends once all hold a certificate from the new root.
      const c = client();
      const sw = await c.call<SwarmView & { Spec: { CAConfig: { ForceRotate?: number } } }>('/swarm');
      const spec = { ...sw.Spec, CAConfig: { ...sw.Spec.CAConfig, ForceRotate: (sw.Spec.CAConfig.ForceRotate ?? 0) + 1 } };
      await c.call('/swarm/update', { method: 'POST', query: { version: String(sw.Version.Index) }, body: spec });
      for (let i = 0; ; i++) {
        const now = await c.call<{ RootRotationInProgress: boolean; TLSInfo: { TrustRoot: string } }>('/swarm');
        if (!now.RootRotationInProgress) {
          process.stdout.write(now.TLSInfo.TrustRoot);
          return 0;
        }
        if (i >= 600) throw new FlagError('the root rotation is still in progress after 60s: every node must renew its certificate (down nodes hold it up); `tsswarm swarm ca` shows the root once it is done');
        if (!bool(p, 'quiet') && i % 20 === 0) process.stderr.write('rotating the root CA: waiting for every node to renew its certificate…\n');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const sw = await client().call<{ TLSInfo: { TrustRoot: string } }>('/swarm');
    process.stdout.write(sw.TLSInfo.TrustRoot);
    return 0;
  },
});

interface NodeView {
  ID: string;
  Version: { Index: number };
  Spec: { Role: string; Availability: string; Labels: Record<string, string> };
  Description: { Hostname: string; Engine: { EngineVersion: string } };
  Status: { State: string; Addr: string; Message: string };
  ManagerStatus?: { Leader: boolean; Reachability: string; Addr: string };
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function managerStatus(n: NodeView): string {
  if (!n.ManagerStatus) return '';
  return n.ManagerStatus.Leader ? 'Leader' : cap(n.ManagerStatus.Reachability);
}

/**
 * Read, change, write with the version read. The dispatcher also writes node objects (status), so a
 * write can race one: on "update out of sequence" the change is re-applied to a fresh read (a few
 * times), where Docker's CLI would give up.
 */
async function updateNode(ref: string, change: (n: NodeView) => Partial<NodeView['Spec']>): Promise<NodeView> {
  const c = client();
  for (let attempt = 1; ; attempt++) {
    const n = await c.call<NodeView>(`/nodes/${enc(ref)}`);
    try {
      await c.call(`/nodes/${enc(n.ID)}/update`, { method: 'POST', query: { version: String(n.Version.Index) }, body: { ...n.Spec, ...change(n) } });
      return n;
    } catch (e) {
      if (attempt >= 5 || !/update out of sequence/.test((e as Error).message)) throw e;
    }
  }
}

export const node = group('node', {
  ls: async (argv) => {
    const p = parse(argv, 'tsswarm node ls [OPTIONS]', [
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only display IDs' },
      { name: 'format', type: 'string', description: 'Pretty-print nodes using a Go template' },
      { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
    ]);
    if (!p) return 0;
    const c = client();
    const [nodes, info] = await Promise.all([c.call<NodeView[]>('/nodes'), c.call<{ Swarm: InfoSwarm }>('/info')]);
    const filters = list(p, 'filter').map((f) => f.split('=', 2) as [string, string]);
    const rows = nodes
      .filter((n) => filters.every(([k, v]) => (k === 'role' ? n.Spec.Role === v : k === 'name' || k === 'hostname' ? n.Description.Hostname.includes(v) : k === 'id' ? n.ID.startsWith(v) : true)))
      .map((n) => ({
        ID: n.ID,
        Self: n.ID === info.Swarm.NodeID,
        Hostname: n.Description.Hostname,
        Status: cap(n.Status.State),
        Availability: cap(n.Spec.Availability),
        ManagerStatus: managerStatus(n),
        EngineVersion: n.Description.Engine.EngineVersion,
        TLSStatus: 'Ready',
      }));
    if (bool(p, 'quiet') && !str(p, 'format')) {
      process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
      return 0;
    }
    const view = rows.map((r) => ({ ...r, ID: r.Self ? `${r.ID} *` : r.ID }));
    process.stdout.write(
      formatList(str(p, 'format'), view, {
        defaultTable: 'table {{.ID}}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}\t{{.EngineVersion}}',
        headers: { ID: 'ID', Hostname: 'HOSTNAME', Status: 'STATUS', Availability: 'AVAILABILITY', ManagerStatus: 'MANAGER STATUS', EngineVersion: 'ENGINE VERSION' },
      }),
    );
    return 0;
  },
  inspect: async (argv) => {
    const usage = 'tsswarm node inspect [OPTIONS] self|NODE [NODE...]';
    const p = parse(argv, usage, [
      { name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' },
      { name: 'pretty', type: 'bool', description: 'Print the information in a human friendly format' },
    ]);
    if (!p) return 0;
    needArgs(p, 1, 'node inspect', usage);
    const items: NodeView[] = [];
    for (const a of p.args) items.push(await client().call<NodeView>(`/nodes/${enc(a)}`));
    if (bool(p, 'pretty')) {
      for (const n of items) {
        process.stdout.write(
          [
            `ID:\t\t\t${n.ID}`,
            `Hostname:\t\t${n.Description.Hostname}`,
            `Joined at:\t\t${(n as unknown as { CreatedAt: string }).CreatedAt}`,
            'Status:',
            ` State:\t\t\t${cap(n.Status.State)}`,
            ...(n.Status.Message ? [` Message:\t\t${n.Status.Message}`] : []),
            ` Availability:\t\t${cap(n.Spec.Availability)}`,
            ` Address:\t\t${n.Status.Addr}`,
            ...(n.ManagerStatus ? ['Manager Status:', ` Address:\t\t${n.ManagerStatus.Addr}`, ` Raft Status:\t\t${cap(n.ManagerStatus.Reachability)}`, ` Leader:\t\t${n.ManagerStatus.Leader ? 'Yes' : 'No'}`] : []),
            `Engine Version:\t\t${n.Description.Engine.EngineVersion}`,
            '',
          ].join('\n'),
        );
      }
      return 0;
    }
    process.stdout.write(formatInspect(str(p, 'format'), items));
    return 0;
  },
  ps: async (argv) => {
    const p = parse(argv, 'tsswarm node ps [OPTIONS] [NODE...]', [{ name: 'quiet', short: 'q', type: 'bool', description: 'Only display task IDs' }]);
    if (!p) return 0;
    for (const a of p.args.length ? p.args : ['self']) await client().call(`/nodes/${enc(a)}`);
    // Services and their tasks come with the services issue; the table has Docker's header, no rows.
    if (!bool(p, 'quiet')) process.stdout.write('ID        NAME      IMAGE     NODE      DESIRED STATE   CURRENT STATE   ERROR     PORTS\n');
    return 0;
  },
  update: async (argv) => {
    const usage = 'tsswarm node update [OPTIONS] NODE';
    const p = parse(argv, usage, [
      { name: 'availability', type: 'string', description: 'Availability of the node ("active", "pause", "drain")' },
      { name: 'label-add', type: 'list', description: 'Add or update a node label (key=value)' },
      { name: 'label-rm', type: 'list', description: 'Remove a node label if exists' },
      { name: 'role', type: 'string', description: 'Role of the node ("worker", "manager")' },
    ]);
    if (!p) return 0;
    needArgs(p, 1, 'node update', usage);
    const availability = str(p, 'availability');
    if (availability) oneOf(availability, 'availability', AVAILABILITY);
    const role = str(p, 'role');
    if (role) oneOf(role, 'role', ['worker', 'manager']);
    await updateNode(p.args[0]!, (n) => {
      const labels = { ...n.Spec.Labels };
      for (const kv of list(p, 'label-add')) {
        const i = kv.indexOf('=');
        labels[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
      }
      for (const k of list(p, 'label-rm')) delete labels[k];
      return { Labels: labels, ...(availability ? { Availability: availability } : {}), ...(role ? { Role: role } : {}) };
    });
    process.stdout.write(`${p.args[0]}\n`);
    return 0;
  },
  promote: async (argv) => {
    needArgs(parse(argv, 'tsswarm node promote NODE [NODE...]', [])!, 1, 'node promote', 'tsswarm node promote NODE [NODE...]');
    for (const a of argv) {
      const n = await updateNode(a, () => ({ Role: 'manager' }));
      process.stdout.write(`Node ${n.ID} promoted to a manager in the swarm.\n`);
    }
    return 0;
  },
  demote: async (argv) => {
    needArgs(parse(argv, 'tsswarm node demote NODE [NODE...]', [])!, 1, 'node demote', 'tsswarm node demote NODE [NODE...]');
    for (const a of argv) {
      const n = await updateNode(a, () => ({ Role: 'worker' }));
      process.stdout.write(`Manager ${n.ID} demoted in the swarm.\n`);
    }
    return 0;
  },
  rm: async (argv) => {
    const usage = 'tsswarm node rm [OPTIONS] NODE [NODE...]';
    const p = parse(argv, usage, [{ name: 'force', short: 'f', type: 'bool', description: 'Force remove a node from the swarm' }]);
    if (!p) return 0;
    needArgs(p, 1, 'node rm', usage);
    let code = 0;
    for (const a of p.args) {
      try {
        await client().call(`/nodes/${enc(a)}`, { method: 'DELETE', query: { force: bool(p, 'force') ? '1' : undefined } });
        process.stdout.write(`${a}\n`);
      } catch (e) {
        process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
        code = 1;
      }
    }
    return code;
  },
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}
