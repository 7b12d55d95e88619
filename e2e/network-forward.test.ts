// Living beside dockerd's `iptables -P FORWARD DROP`, reproduced inside namespaces of this test only:
// a "host" namespace with a bridge and the DROP policy, two "container" namespaces on the bridge, and
// an "outside" namespace linked to the host. Without our rules nothing crosses the bridge; with them,
// container to container, egress and a published (DNATed) port work; after removal nothing of ours
// is left. The real host's iptables and nftables are never touched.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForwardCompat } from '../network/forward-compat.js';
import type { Endpoint, NetworkInfo } from '../network/manager.js';
import type { PortMapping } from '../network/ports.js';
import { must, TestNet, type Netd } from '../network/testing/harness.js';

describe('e2e: our bridges pass an iptables FORWARD DROP policy (dockerd on the same host)', function () {
  const t = new TestNet();
  let host: string, a: string, b: string, outside: string;
  const bridge = `tsf${t.run.slice(0, 4)}br`;
  const tag = `tsswarm_t${t.run}`;
  let compat: ForwardCompat;
  const servers: ChildProcess[] = [];

  // A TCP round trip with a 1 s bound: "blocked" must not cost the default timeouts.
  const tcp = (ns: string, ip: string, port: number): boolean => {
    const r = t.exec(ns, 'busybox', ['sh', '-c', `echo ping | busybox nc -w 1 ${ip} ${port}`]);
    return r.code === 0 && r.stdout.includes('pong');
  };
  const serve = async (ns: string, _ip: string, port: number): Promise<void> => {
    const { proc } = await t.start(ns, ['sh', '-c', `echo ready; exec busybox nc -ll -p ${port} -e busybox echo pong`]);
    servers.push(proc);
  };

  before(async function () {
    host = t.ns('fhost');
    a = t.ns('fa');
    b = t.ns('fb');
    outside = t.ns('fout');
    compat = new ForwardCompat(tag, `/run/netns/${host}`);
    const ipn = (ns: string, script: string) => must('ip', ['-n', ns, '-batch', '-'], script);
    ipn(host, `link add ${bridge} type bridge\naddr add 10.231.0.1/24 dev ${bridge}\nlink set ${bridge} up\n`);
    for (const [ns, ip, n] of [[a, '10.231.0.2', 'a'], [b, '10.231.0.3', 'b']] as const) {
      must('ip', ['link', 'add', `tsf${t.run.slice(0, 4)}${n}h`, 'netns', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ipn(host, `link set tsf${t.run.slice(0, 4)}${n}h master ${bridge} up\n`);
      ipn(ns, `addr add ${ip}/24 dev eth0\nlink set eth0 up\nroute add default via 10.231.0.1\n`);
    }
    must('ip', ['link', 'add', `tsf${t.run.slice(0, 4)}o`, 'netns', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside]);
    ipn(host, `addr add 192.0.2.1/24 dev tsf${t.run.slice(0, 4)}o\nlink set tsf${t.run.slice(0, 4)}o up\n`);
    ipn(outside, 'addr add 192.0.2.2/24 dev eth0\nlink set eth0 up\n');
    t.exec(host, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1']);
    // What our engine's own table does: masquerade egress and DNAT a published port (8080 → b:80).
    must('ip', ['netns', 'exec', host, 'nft', '-f', '-'], `table ip ${tag} {
      chain pre { type nat hook prerouting priority dstnat; ip daddr 192.0.2.1 tcp dport 8080 dnat to 10.231.0.3:80; }
      chain post { type nat hook postrouting priority srcnat; ip saddr 10.231.0.0/24 oifname != "${bridge}" masquerade; }
    }`);
    await serve(b, '10.231.0.3', 80);
    await serve(outside, '192.0.2.2', 9000);
  });

  after(function () {
    for (const p of servers) p.kill('SIGKILL');
    t.cleanup();
  });

  it('without our rules the DROP policy blocks bridge, egress and published-port traffic', function () {
    // First, that the set-up itself carries all three (so "blocked" below means the policy).
    assert.ok(tcp(a, '10.231.0.3', 80), 'container to container, before DROP');
    assert.ok(tcp(a, '192.0.2.2', 9000), 'egress, before DROP');
    assert.ok(tcp(outside, '192.0.2.1', 8080), 'published port, before DROP');
    // What dockerd does.
    must('ip', ['netns', 'exec', host, 'iptables', '-P', 'FORWARD', 'DROP']);
    assert.equal(tcp(a, '10.231.0.3', 80), false, 'container to container');
    assert.equal(tcp(a, '192.0.2.2', 9000), false, 'egress');
    assert.equal(tcp(outside, '192.0.2.1', 8080), false, 'published port');
  });

  it('with our rules all three work, and only our tagged rules were added', async function () {
    await compat.sync([bridge]);
    assert.ok(tcp(a, '10.231.0.3', 80), 'container to container');
    assert.ok(tcp(a, '192.0.2.2', 9000), 'egress');
    assert.ok(tcp(outside, '192.0.2.1', 8080), 'published port');
    const rules = must('ip', ['netns', 'exec', host, 'iptables', '-S', 'FORWARD']).split('\n').filter((l) => l.startsWith('-A'));
    assert.equal(rules.length, 3);
    for (const r of rules) assert.match(r, new RegExp(`tsswarm:${tag}:${bridge}`));
    // The policy is dockerd's, not ours to change.
    assert.match(must('ip', ['netns', 'exec', host, 'iptables', '-S', 'FORWARD']), /^-P FORWARD DROP$/m);
  });

  it('sync is idempotent and survives dockerd re-inserting its chain jumps', async function () {
    must('ip', ['netns', 'exec', host, 'iptables', '-N', 'DOCKER-USER']);
    must('ip', ['netns', 'exec', host, 'iptables', '-I', 'FORWARD', '-j', 'DOCKER-USER']);
    await compat.sync([bridge]);
    await compat.sync([bridge]);
    // With DOCKER-USER present, our rules move there (dockerd jumps to it first and never flushes it).
    const user = must('ip', ['netns', 'exec', host, 'iptables', '-S', 'DOCKER-USER']).split('\n').filter((l) => l.startsWith('-A'));
    assert.equal(user.length, 3);
    const fwd = must('ip', ['netns', 'exec', host, 'iptables', '-S', 'FORWARD']).split('\n').filter((l) => l.startsWith('-A'));
    assert.deepEqual(fwd, ['-A FORWARD -j DOCKER-USER']);
    assert.ok(tcp(a, '10.231.0.3', 80));
    assert.ok(tcp(outside, '192.0.2.1', 8080));
  });

  it('removeAll leaves only what was there before', async function () {
    await compat.removeAll();
    const all = must('ip', ['netns', 'exec', host, 'iptables', '-S']);
    assert.doesNotMatch(all, /tsswarm:/);
    assert.match(all, /^-A FORWARD -j DOCKER-USER$/m);
    assert.equal(tcp(a, '10.231.0.3', 80), false);
  });
});

describe('e2e: the network manager keeps its bridges passing a FORWARD DROP policy', function () {
  const t = new TestNet();
  const table = `tsswarm_t${t.run}`;
  let stateDir: string;
  let host: string, outside: string, web: string, db: string;
  let netd: Netd;
  const servers: ChildProcess[] = [];
  const cid = (n: string): string => `${n}${t.run}`.padEnd(64, '0');
  const tcp = (ns: string, ip: string, port: number): boolean => {
    const r = t.exec(ns, 'busybox', ['sh', '-c', `echo ping | busybox nc -w 2 ${ip} ${port}`]);
    return r.code === 0 && r.stdout.includes('pong');
  };
  const ours = (): string[] =>
    must('ip', ['netns', 'exec', host, 'iptables', '-S'])
      .split('\n')
      .filter((l) => l.includes(`tsswarm:${table}:`));

  before(async function () {
    stateDir = mkdtempSync(join(tmpdir(), 'tsswarm-fwd-e2e-'));
    host = t.ns('mh');
    outside = t.ns('mx');
    web = t.ns('mweb');
    db = t.ns('mdb');
    must('ip', ['-n', host, '-batch', '-'], `link add tsm${t.run}h type veth peer name tsm${t.run}x netns /run/netns/${outside}\naddr add 192.0.2.1/24 dev tsm${t.run}h\nlink set tsm${t.run}h up\n`);
    must('ip', ['-n', outside, '-batch', '-'], `addr add 192.0.2.2/24 dev tsm${t.run}x\nlink set tsm${t.run}x up\n`);
    // dockerd's doing, before our daemon starts.
    must('ip', ['netns', 'exec', host, 'iptables', '-P', 'FORWARD', 'DROP']);
    must('ip', ['netns', 'exec', host, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1']);
    for (const [ns, port] of [[outside, 9000], [db, 5000]] as const) {
      const { proc } = await t.start(ns, ['sh', '-c', `echo ready; exec busybox nc -ll -p ${port} -e busybox echo pong`]);
      servers.push(proc);
    }
    netd = await t.netd(host, {
      stateFile: join(stateDir, 'state.json'),
      table,
      dns: false,
      hostResolvConf: '/dev/null',
      ephemeralRange: [40000, 40100],
    });
  });

  after(async function () {
    for (const p of servers) p.kill('SIGKILL');
    await netd?.stop().catch(() => undefined);
    t.cleanup();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('container to container, egress and a published port work on a user network', async function () {
    await netd.call<NetworkInfo>('createNetwork', { name: 'front' });
    const connect = (name: string, ns: string) =>
      netd.call<Endpoint>('connect', { network: 'front', containerId: cid(name), containerName: name, netns: { path: `/run/netns/${ns}` } });
    await connect('web', web);
    const dbEp = await connect('db', db);
    await netd.call<PortMapping[]>('publishSpecs', cid('db'), ['8080:5000']);
    assert.ok(tcp(web, dbEp.ip, 5000), 'container to container');
    assert.ok(tcp(web, '192.0.2.2', 9000), 'egress');
    assert.ok(tcp(outside, '192.0.2.1', 8080), 'published port from another namespace');
    // Rules for the default bridge and for front, three each.
    assert.equal(ours().length, 6);
  });

  it('removes a network’s rules with it, and all of ours at teardown', async function () {
    await netd.call('unpublish', cid('db'));
    await netd.call('disconnect', 'front', cid('web'));
    await netd.call('disconnect', 'front', cid('db'));
    await netd.call('removeNetwork', 'front');
    assert.equal(ours().length, 3);
    await netd.call('teardown');
    assert.deepEqual(ours(), []);
    assert.match(must('ip', ['netns', 'exec', host, 'iptables', '-S', 'FORWARD']), /^-P FORWARD DROP$/m);
  });
});
