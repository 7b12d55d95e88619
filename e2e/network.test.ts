// Single-host networking end to end. The "host" is a test network namespace running the manager
// (netd.ts); "containers" are plain namespaces; "outside" is a namespace linked to the host by a
// veth pair and also runs the stand-in upstream resolver. Nothing touches the real host's links,
// routes or nftables: it is all inside namespaces named tsswarm-test-<run>-….

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoint, NetworkInfo } from '../network/manager.js';
import type { PortMapping } from '../network/ports.js';
import { must, sh, TestNet, type Netd } from '../network/testing/harness.js';

const OUT_HOST = '192.0.2.1';
const OUT_PEER = '192.0.2.2';
const UPSTREAM_ANSWER = '198.51.100.7';

describe('e2e: single-host networking', function () {
  const t = new TestNet();
  const table = `tsswarm_t${t.run}`;
  let stateDir: string;
  let host: string;
  let outside: string;
  const c: Record<string, string> = {};
  let netd: Netd;
  let baseline: { tables: string; links: string };
  const servers: ChildProcess[] = [];
  let front: NetworkInfo;
  const ep: Record<string, Endpoint> = {};
  const cid = (n: string): string => `${n}${t.run}`.padEnd(64, '0');

  const opts = (): Record<string, unknown> => ({
    stateFile: join(stateDir, 'network', 'state.json'),
    table,
    dns: { upstreams: [OUT_PEER], forwardTimeoutMs: 3000 },
    hostResolvConf: '/dev/null',
    ephemeralRange: [40000, 40100],
  });

  const connect = (name: string, network: string, extra: Record<string, unknown> = {}): Promise<Endpoint> =>
    netd.call<Endpoint>('connect', { network, containerId: cid(name), containerName: name, netns: { path: `/run/netns/${c[name]}` }, ...extra });

  const hostLinks = (): string[] => must('ip', ['-n', host, '-o', 'link', 'show']).split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]!);
  const ourTable = (): string => must('ip', ['netns', 'exec', host, 'nft', 'list', 'table', 'inet', table]);

  before(async () => {
    baseline = { tables: must('nft', ['list', 'tables']), links: must('ip', ['-br', 'link']) };
    stateDir = mkdtempSync(join(tmpdir(), 'tsswarm-net-e2e-'));
    host = t.ns('h');
    outside = t.ns('x');
    for (const n of ['web', 'db', 'api', 'iso']) c[n] = t.ns(n);
    // host <-> outside link, like a second machine on the LAN
    must('ip', ['-n', host, '-batch', '-'], [
      `link add tsv${t.run}h type veth peer name tsv${t.run}x netns /run/netns/${outside}`,
      `addr add ${OUT_HOST}/24 dev tsv${t.run}h`,
      `link set tsv${t.run}h up`,
    ].join('\n') + '\n');
    must('ip', ['-n', outside, '-batch', '-'], `addr add ${OUT_PEER}/24 dev tsv${t.run}x\nlink set tsv${t.run}x up\n`);
    servers.push(await t.serve(outside, 'serve-dns', OUT_PEER, '53', UPSTREAM_ANSWER));
    servers.push(await t.serve(outside, 'serve-tcp', OUT_PEER, '7000', 'outside-sees'));
    netd = await t.netd(host, opts());
  });

  after(async () => {
    await netd?.stop().catch(() => undefined);
    t.cleanup();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts with the predefined networks', async () => {
    const nets = await netd.call<NetworkInfo[]>('listNetworks');
    assert.deepEqual(nets.map((n) => `${n.name}/${n.driver}`), ['bridge/bridge', 'host/host', 'none/null']);
    assert.equal(nets[0]!.subnet, '172.17.0.0/16');
    assert.ok(hostLinks().includes('tsw0'));
    assert.equal(must('ip', ['netns', 'exec', host, 'sysctl', '-n', 'net.ipv4.ip_forward']).trim(), '1');
  });

  it('creates a user network with the next pool subnet', async () => {
    front = await netd.call<NetworkInfo>('createNetwork', { name: 'front', labels: { team: 'a' } });
    assert.equal(front.subnet, '172.18.0.0/16');
    assert.equal(front.gateway, '172.18.0.1');
    assert.ok(hostLinks().includes(front.bridge!));
    assert.equal(must('ip', ['netns', 'exec', host, 'sysctl', '-n', `net.ipv4.conf.${front.bridge}.route_localnet`]).trim(), '1');
    await assert.rejects(netd.call('createNetwork', { name: 'front' }), /already exists/);
  });

  it('refuses an overlapping subnet and leaves nothing behind', async () => {
    const links = hostLinks();
    const rules = ourTable();
    await assert.rejects(netd.call('createNetwork', { name: 'clash', subnet: '172.18.5.0/24' }), /172\.18\.5\.0\/24 overlaps with network .* \(172\.18\.0\.0\/16\)/);
    await assert.rejects(netd.call('createNetwork', { name: 'bad', subnet: '172.40.0.1/16' }), /host bits are set/);
    assert.deepEqual(hostLinks(), links);
    assert.equal(ourTable(), rules);
    assert.equal((await netd.call<NetworkInfo[]>('listNetworks')).length, 4);
  });

  it('connects containers that reach each other', async () => {
    ep.web = await connect('web', 'front', { aliases: ['www'] });
    ep.db = await connect('db', 'front', { aliases: ['svc'] });
    ep.api = await connect('api', 'front', { aliases: ['svc'], ip: '172.18.0.50' });
    assert.deepEqual([ep.web.ip, ep.db.ip, ep.api.ip, ep.web.ifname], ['172.18.0.2', '172.18.0.3', '172.18.0.50', 'eth0']);
    assert.equal(ep.web.mac, '02:42:ac:12:00:02');
    const ping = t.exec(c.web!, 'busybox', ['ping', '-c', '1', '-W', '5', ep.db.ip]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    servers.push(await t.serve(c.db!, 'serve-tcp', '0.0.0.0', '5000', 'db-here'));
    assert.equal(t.probe(c.web!, 'tcp', ep.db.ip, '5000').text, `db-here ${ep.web.ip}`);
    const route = must('ip', ['-n', c.web!, 'route', 'show', 'default']);
    assert.match(route, /default via 172\.18\.0\.1 dev eth0/);
  });

  it('a failed connect leaves no veth and frees the address', async () => {
    const links = hostLinks();
    await assert.rejects(
      netd.call('connect', { network: 'front', containerId: cid('ghost'), containerName: 'ghost', netns: { path: `/run/netns/tsswarm-test-${t.run}-nope` } }),
      /cannot connect container ghost to network front/,
    );
    await assert.rejects(connect('iso', 'front', { ip: '172.18.0.50' }), /already in use/);
    assert.deepEqual(hostLinks(), links);
    assert.equal(Object.keys((await netd.call<NetworkInfo>('inspectNetwork', 'front')).containers).length, 3);
  });

  it('answers names and aliases on the gateway, round-robins service names, forwards the rest', () => {
    assert.deepEqual(t.probe(c.web!, 'dns', front.gateway!, 'db'), { rcode: 0, answers: [ep.db!.ip] });
    assert.deepEqual(t.probe(c.db!, 'dns', front.gateway!, 'www'), { rcode: 0, answers: [ep.web!.ip] });
    const first = t.probe(c.web!, 'dns', front.gateway!, 'svc').answers as string[];
    const second = t.probe(c.web!, 'dns', front.gateway!, 'svc').answers as string[];
    assert.deepEqual([...first].sort(), [ep.db!.ip, ep.api!.ip].sort());
    assert.deepEqual(second, [...first].reverse());
    assert.deepEqual(t.probe(c.web!, 'dns', front.gateway!, 'example.org'), { rcode: 0, answers: [UPSTREAM_ANSWER] });
  });

  it('writes a resolv.conf that makes names resolve through libc', async () => {
    const conf = await netd.call<string>('resolvConf', cid('web'));
    assert.match(conf, /^nameserver 172\.18\.0\.1$/m);
    t.etcFile(c.web!, 'resolv.conf', conf);
    assert.deepEqual(t.probe(c.web!, 'lookup', 'db'), { addresses: [ep.db!.ip] });
  });

  it('masquerades egress', () => {
    assert.equal(t.probe(c.web!, 'tcp', OUT_PEER, '7000').text, `outside-sees ${OUT_HOST}`);
  });

  it('isolates networks and keeps internal networks off the outside', async () => {
    await assert.rejects(netd.call('createNetwork', { name: 'back', options: { 'com.docker.network.driver.mtu': 'big' } }), /invalid com\.docker\.network\.driver\.mtu "big"/);
    const back = await netd.call<NetworkInfo>('createNetwork', { name: 'back', internal: true, options: { 'com.docker.network.driver.mtu': '1400' } });
    const iso = await connect('iso', 'back');
    assert.equal(iso.gateway, back.gateway);
    assert.match(must('ip', ['-n', c.iso!, 'link', 'show', 'eth0']), /mtu 1400/);
    assert.match(must('ip', ['-n', host, 'link', 'show', back.bridge!]), /mtu 1400/);
    assert.equal(must('ip', ['-n', c.iso!, 'route', 'show', 'default']).trim(), '', 'internal network gets no default route');
    assert.notEqual(t.exec(c.iso!, 'busybox', ['ping', '-c', '1', '-W', '1', OUT_PEER]).code, 0);
    // Even with a route, the host does not forward between bridges.
    must('ip', ['-n', c.iso!, 'route', 'add', '172.18.0.0/16', 'via', back.gateway!]);
    assert.notEqual(t.exec(c.iso!, 'busybox', ['ping', '-c', '1', '-W', '1', ep.db!.ip]).code, 0);
    // Names of other networks are not visible: forwarded (the stand-in upstream answers everything).
    assert.deepEqual(t.probe(c.iso!, 'dns', back.gateway!, 'db').answers, [UPSTREAM_ANSWER]);
  });

  it('publishes ports reachable from another namespace and from 127.0.0.1', async () => {
    servers.push(await t.serve(c.db!, 'serve-dns', '0.0.0.0', '53', '203.0.113.9'));
    const maps = await netd.call<PortMapping[]>('publishSpecs', cid('db'), ['8080:5000', '127.0.0.1::5000', '5353:53/udp']);
    assert.deepEqual(maps[0], { proto: 'tcp', containerPort: 5000, hostIp: '0.0.0.0', hostPort: 8080 });
    assert.equal(maps[1]!.hostIp, '127.0.0.1');
    assert.ok(maps[1]!.hostPort >= 40000 && maps[1]!.hostPort <= 40100);
    // From outside: source address kept.
    assert.equal(t.probe(outside, 'tcp', OUT_HOST, '8080').text, `db-here ${OUT_PEER}`);
    // From the host's loopback, both mappings.
    assert.match(String(t.probe(host, 'tcp', '127.0.0.1', '8080').text), /^db-here 172\.18\.0\.1$/);
    assert.match(String(t.probe(host, 'tcp', '127.0.0.1', String(maps[1]!.hostPort)).text), /^db-here /);
    // UDP too.
    assert.deepEqual(t.probe(outside, 'dns', `${OUT_HOST}:5353`, 'anything'), { rcode: 0, answers: ['203.0.113.9'] });
    assert.deepEqual(t.probe(host, 'dns', '127.0.0.1:5353', 'anything'), { rcode: 0, answers: ['203.0.113.9'] });
    // From a container on the same network via the host address (hairpin).
    assert.match(String(t.probe(c.web!, 'tcp', OUT_HOST, '8080').text), /^db-here 172\.18\.0\.1$/);
  });

  it('refuses taken ports and malformed -p without changing anything', async () => {
    const rules = ourTable();
    await assert.rejects(netd.call('publishSpecs', cid('web'), ['8080:5000']), /8080\/tcp failed: port is already allocated/);
    await assert.rejects(netd.call('publishSpecs', cid('web'), ['9000:5000', '8080:5000']), /already allocated/);
    servers.push(await t.serve(host, 'serve-tcp', '0.0.0.0', '9090', 'host-app'));
    await assert.rejects(netd.call('publishSpecs', cid('web'), ['9090:80']), /0\.0\.0\.0:9090\/tcp failed: port is already in use/);
    await assert.rejects(netd.call('publishSpecs', cid('web'), ['80:abc']), /invalid -p value "80:abc".*expected \[IP:\]\[HOST\[-RANGE\]:\]CONTAINER/);
    assert.equal(ourTable(), rules);
    assert.deepEqual(await netd.call('ports', cid('web')), []);
    // 9000 was not left held by the failed all-or-nothing call.
    const m = await netd.call<PortMapping[]>('publishSpecs', cid('web'), ['9000:5000']);
    assert.equal(m[0]!.hostPort, 9000);
    await netd.call('unpublish', cid('web'));
  });

  it('restores everything after a daemon restart', async () => {
    await netd.stop();
    // Kernel forwarding keeps working with the daemon down.
    assert.match(String(t.probe(outside, 'tcp', OUT_HOST, '8080').text), /^db-here /);
    netd = await t.netd(host, opts());
    assert.deepEqual(t.probe(c.web!, 'dns', front.gateway!, 'db'), { rcode: 0, answers: [ep.db!.ip] });
    assert.deepEqual((await netd.call<PortMapping[]>('ports', cid('db'))).map((m) => m.hostPort)[0], 8080);
    await assert.rejects(netd.call('publishSpecs', cid('web'), ['8080:5000']), /already allocated/);
    assert.match(String(t.probe(outside, 'tcp', OUT_HOST, '8080').text), /^db-here /);
    // A container that died while the daemon was down is dropped on start.
    await netd.stop();
    must('ip', ['netns', 'del', c.api!]);
    netd = await t.netd(host, opts());
    const names = Object.values((await netd.call<NetworkInfo>('inspectNetwork', 'front')).containers).map((x) => x.name);
    assert.deepEqual(names.sort(), ['db', 'web']);
    assert.deepEqual(t.probe(c.web!, 'dns', front.gateway!, 'svc').answers, [ep.db!.ip]);
  });

  it('disconnects, refuses to remove a network in use, prunes and removes', async () => {
    await assert.rejects(netd.call('removeNetwork', 'front'), /has active endpoints/);
    await assert.rejects(netd.call('removeNetwork', 'bridge'), /pre-defined/);
    await netd.call('disconnect', 'front', cid('web'));
    assert.ok(!must('ip', ['-n', c.web!, '-o', 'link']).includes('eth0'));
    await netd.call('releaseContainer', cid('db'));
    assert.deepEqual(t.probe(outside, 'tcp', OUT_HOST, '8080').error !== undefined, true);
    await netd.call('releaseContainer', cid('iso'));
    assert.deepEqual((await netd.call<string[]>('pruneNetworks')).sort(), ['back', 'front']);
    assert.deepEqual(hostLinks().filter((l) => l.startsWith('tsbr-') || l.startsWith('tsv') && !l.startsWith(`tsv${t.run}`)), []);
  });

  it('reports network events itself: create, connect, disconnect, destroy, prune', async () => {
    const before = (await netd.call<unknown[]>('events')).length;
    const evt = await netd.call<NetworkInfo>('createNetwork', { name: 'evt' });
    // A stopped container: the record changes, no endpoint is made, the event is the same.
    await netd.call('connectContainer', { network: 'evt', containerId: cid('ghost'), containerName: 'ghost' });
    assert.equal(Object.keys((await netd.call<NetworkInfo>('inspectNetwork', 'evt')).containers).length, 0);
    await netd.call('disconnectContainer', 'evt', cid('ghost'), false);
    await netd.call('connectContainer', { network: 'evt', containerId: cid('web'), containerName: 'web', netns: { path: `/run/netns/${c.web}` } });
    assert.ok(must('ip', ['-n', c.web!, '-o', 'link']).includes('eth0'));
    await netd.call('disconnectContainer', 'evt', cid('web'), true);
    assert.ok(!must('ip', ['-n', c.web!, '-o', 'link']).includes('eth0'));
    await netd.call('removeNetwork', 'evt');
    const pruned = await netd.call<NetworkInfo>('createNetwork', { name: 'evt-pruned' });
    assert.deepEqual(await netd.call<string[]>('pruneNetworks'), ['evt-pruned']);
    const evs = (await netd.call<{ action: string; id: string; attributes: Record<string, string> }[]>('events')).slice(before);
    assert.deepEqual(
      evs.map((e) => [e.action, e.id, e.attributes]),
      [
        ['create', evt.id, { name: 'evt', type: 'bridge' }],
        ['connect', evt.id, { container: cid('ghost'), name: 'evt', type: 'bridge' }],
        ['disconnect', evt.id, { container: cid('ghost'), name: 'evt', type: 'bridge' }],
        ['connect', evt.id, { container: cid('web'), name: 'evt', type: 'bridge' }],
        ['disconnect', evt.id, { container: cid('web'), name: 'evt', type: 'bridge' }],
        ['destroy', evt.id, { name: 'evt', type: 'bridge' }],
        ['create', pruned.id, { name: 'evt-pruned', type: 'bridge' }],
        ['destroy', pruned.id, { name: 'evt-pruned', type: 'bridge' }],
        ['prune', '', { reclaimed: '0' }],
      ],
    );
  });

  it('teardown removes bridges and the table; the real host is untouched', async () => {
    await netd.call('teardown');
    assert.deepEqual(hostLinks().filter((l) => l.startsWith('ts') && !l.startsWith(`tsv${t.run}`)), []);
    assert.notEqual(sh('ip', ['netns', 'exec', host, 'nft', 'list', 'table', 'inet', table]).code, 0);
    await netd.stop();
    for (const s of servers) s.kill();
    t.cleanup();
    assert.ok(!must('ip', ['netns', 'list']).includes(`tsswarm-test-${t.run}`));
    // Nothing of ours is left in the real host's ruleset (other runs' daemons may come and go meanwhile).
    const before = new Set(baseline.tables.split('\n'));
    assert.deepEqual(must('nft', ['list', 'tables']).split('\n').filter((l) => !before.has(l)), []);
    assert.equal(must('ip', ['-br', 'link']).split('\n').filter((l) => l.includes(t.run)).length, 0);
  });
});
