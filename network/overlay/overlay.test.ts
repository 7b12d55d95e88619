// The overlay driver against the real kernel: two "nodes" (network namespaces of our own, prefix
// tsol + random) joined by an underlay veth, a "container" namespace on each, one overlay between
// them. Traffic crosses only once the peers are programmed, and stops when they are removed.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointRecord, NetworkRecord } from '../state.js';
import { OverlayDriver, OPT_LOCAL, OPT_VNI } from './driver.js';
import { peerScript, planPeers, programmedPeers } from './peers.js';
import { isMounted } from './sandbox.js';

const isRoot = process.getuid?.() === 0;

describe('network/overlay peers (pure)', () => {
  it('adds what is new, removes what is gone, leaves the rest', () => {
    const a = { ip: '10.0.1.3', mac: '02:42:0a:00:01:03', nodeAddr: '192.168.1.2' };
    const b = { ip: '10.0.1.4', mac: '02:42:0a:00:01:04', nodeAddr: '192.168.1.3' };
    const moved = { ...b, nodeAddr: '192.168.1.4' };
    const plan = planPeers([a, b], [a, moved]);
    assert.deepEqual(plan, { add: [moved], remove: [b] });
    assert.equal(
      peerScript('tsvx4097', plan),
      'neigh del 10.0.1.4 lladdr 02:42:0a:00:01:04 dev tsvx4097\nfdb del 02:42:0a:00:01:04 dev tsvx4097 dst 192.168.1.3 self\n' +
        'neigh replace 10.0.1.4 lladdr 02:42:0a:00:01:04 dev tsvx4097 nud permanent\nfdb append 02:42:0a:00:01:04 dev tsvx4097 dst 192.168.1.4 self permanent\n',
    );
    assert.equal(peerScript('x', planPeers([a], [a])), '');
  });

  it('reads back what a VXLAN device holds: FDB entries paired with their neighbour entries', () => {
    const fdb = JSON.stringify([
      { mac: '02:42:0a:00:01:04', dst: '192.168.1.3', flags: ['self'], state: 'permanent' },
      { mac: '00:00:00:00:00:00', dst: '192.168.1.9', flags: ['self'], state: 'permanent' },
      { mac: 'f2:22:ec:fe:c6:56', master: 'br', state: 'permanent' },
    ]);
    const neigh = JSON.stringify([{ dst: '10.0.1.4', lladdr: '02:42:0a:00:01:04', state: ['PERMANENT'] }]);
    assert.deepEqual(programmedPeers(fdb, neigh), [{ ip: '10.0.1.4', mac: '02:42:0a:00:01:04', nodeAddr: '192.168.1.3' }]);
    assert.deepEqual(programmedPeers('', ''), []);
  });
});

(isRoot ? describe : describe.skip)('network/overlay driver (real kernel, two nodes)', function () {
  this.timeout(30_000);
  const tag = `tsol${randomBytes(2).toString('hex')}`;
  const ns = { n1: `${tag}-n1`, n2: `${tag}-n2`, c1: `${tag}-c1`, c2: `${tag}-c2` };
  const addr = { n1: '192.168.250.1', n2: '192.168.250.2' };
  const sh = (...a: string[]) => execFileSync(a[0]!, a.slice(1), { encoding: 'utf8' });
  const ping = (from: string, to: string) => spawnSync('ip', ['netns', 'exec', from, 'busybox', 'ping', '-c', '1', '-W', '1', to]).status === 0;
  const dir = mkdtempSync(join(tmpdir(), `${tag}-`));
  const drivers = {
    n1: new OverlayDriver({ prefix: tag, netns: `/run/netns/${ns.n1}`, sandboxDir: join(dir, 'n1') }),
    n2: new OverlayDriver({ prefix: tag, netns: `/run/netns/${ns.n2}`, sandboxDir: join(dir, 'n2') }),
  };
  const net = (node: 'n1' | 'n2'): NetworkRecord => ({
    id: 'net1',
    name: 'front',
    driver: 'overlay',
    bridge: drivers[node].plan({ id: 'net1', name: 'front', options: { [OPT_VNI]: '4097', [OPT_LOCAL]: addr[node] } }).bridge!,
    subnet: '10.0.1.0/24',
    gateway: '10.0.1.1',
    internal: false,
    labels: {},
    options: { [OPT_VNI]: '4097', [OPT_LOCAL]: addr[node] },
    predefined: false,
    dns: true,
    created: '',
  });
  const ep = (n: number, c: string): EndpointRecord => ({
    id: `ep${n}`,
    networkId: 'net1',
    containerId: `c${n}`,
    containerName: `c${n}`,
    aliases: [],
    ip: `10.0.1.${n + 2}`,
    prefix: 24,
    mac: `02:42:0a:00:01:0${n + 2}`,
    gateway: '10.0.1.1',
    ifname: 'eth1',
    hostIf: `${tag}e${n}`,
    netnsPath: `/run/netns/${c}`,
    defaultRoute: false,
  });

  before(function () {
    for (const n of Object.values(ns)) sh('ip', 'netns', 'add', n);
    sh('ip', 'link', 'add', `${tag}u1`, 'netns', ns.n1, 'type', 'veth', 'peer', 'name', `${tag}u2`, 'netns', ns.n2);
    sh('ip', '-n', ns.n1, 'addr', 'add', `${addr.n1}/24`, 'dev', `${tag}u1`);
    sh('ip', '-n', ns.n2, 'addr', 'add', `${addr.n2}/24`, 'dev', `${tag}u2`);
    for (const [n, l] of [[ns.n1, `${tag}u1`], [ns.n2, `${tag}u2`]] as const) {
      sh('ip', '-n', n, 'link', 'set', l, 'up');
      sh('ip', '-n', n, 'link', 'set', 'lo', 'up');
    }
  });
  after(function () {
    for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'del', n]);
    for (const node of ['n1', 'n2']) spawnSync('umount', [join(dir, node, 'vni4097')]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('joins endpoints on two nodes; they reach each other once peers are programmed, not before, not after', async function () {
    for (const node of ['n1', 'n2'] as const) await drivers[node].create(net(node), { subnet: '10.0.1.0/24', gateway: '10.0.1.1', prefix: 24 });
    await drivers.n1.join(net('n1'), ep(1, ns.c1));
    await drivers.n2.join(net('n2'), ep(2, ns.c2));
    assert.equal(ping(ns.c1, '10.0.1.4'), false, 'no flooding, no learning: unknown peers are unreachable');
    await drivers.n1.programmePeers(net('n1'), [{ ip: '10.0.1.4', mac: '02:42:0a:00:01:04', nodeAddr: addr.n2 }]);
    await drivers.n2.programmePeers(net('n2'), [{ ip: '10.0.1.3', mac: '02:42:0a:00:01:03', nodeAddr: addr.n1 }]);
    assert.equal(ping(ns.c1, '10.0.1.4'), true);
    assert.equal(ping(ns.c2, '10.0.1.3'), true);
    // The bridge and VXLAN device are in the network's own namespace, none of it in the node's.
    const sandbox = drivers.n1.namespaceOf(net('n1'));
    assert.equal(sandbox, join(dir, 'n1', 'vni4097'));
    const inSandbox = (...a: string[]) => sh('nsenter', `--net=${sandbox}`, ...a);
    const fdb = inSandbox('bridge', 'fdb', 'show', 'dev', `${tag}vx4097`);
    assert.match(fdb, /02:42:0a:00:01:04 dst 192\.168\.250\.2 (link-netnsid \d+ )?self permanent/);
    assert.match(inSandbox('ip', '-d', 'link', 'show', `${tag}vx4097`), /vxlan id 4097 local 192\.168\.250\.1 .*dstport 4789 nolearning .*proxy/s);
    assert.doesNotMatch(sh('ip', '-n', ns.n1, 'link'), new RegExp(`${tag}(ov|vx|e)`));
    assert.match(inSandbox('sysctl', '-n', 'net.bridge.bridge-nf-call-iptables'), /^0/, 'no br_netfilter on the overlay bridge');
    await drivers.n1.programmePeers(net('n1'), []);
    assert.equal(ping(ns.c1, '10.0.1.4'), false, 'a removed peer is unreachable');
    await drivers.n1.leave(net('n1'), ep(1, ns.c1));
    await drivers.n2.leave(net('n2'), ep(2, ns.c2));
    for (const node of ['n1', 'n2'] as const) await drivers[node].delete(net(node));
    assert.doesNotMatch(sh('ip', '-n', ns.n1, 'link'), new RegExp(`${tag}(ov|vx)`));
    assert.equal(isMounted(sandbox), false);
    assert.equal(existsSync(sandbox), false, 'the namespace file is gone with the network');
  });

  it('after a daemon restart keeps a live overlay and its endpoints; rebuilds one whose namespace is gone, its endpoints stale', async function () {
    const d1 = new OverlayDriver({ prefix: tag, netns: `/run/netns/${ns.n1}`, sandboxDir: join(dir, 'n1') });
    await d1.create(net('n1'), { subnet: '10.0.1.0/24', gateway: '10.0.1.1', prefix: 24 });
    await d1.join(net('n1'), ep(1, ns.c1));
    await d1.programmePeers(net('n1'), [{ ip: '10.0.1.9', mac: '02:42:0a:00:01:09', nodeAddr: addr.n2 }]);
    // A new driver (the restarted daemon) finds the namespace mounted and the endpoint's link in it,
    // and starts from the peers the device holds: one gone meanwhile is removed by the next picture.
    const restarted = new OverlayDriver({ prefix: tag, netns: `/run/netns/${ns.n1}`, sandboxDir: join(dir, 'n1') });
    assert.deepEqual((await restarted.restore([net('n1')], [ep(1, ns.c1)])).stale, []);
    const fdbOf = () => sh('nsenter', `--net=${restarted.namespaceOf(net('n1'))}`, 'bridge', 'fdb', 'show', 'dev', `${tag}vx4097`);
    assert.match(fdbOf(), /02:42:0a:00:01:09/);
    await restarted.programmePeers(net('n1'), []);
    assert.doesNotMatch(fdbOf(), /02:42:0a:00:01:09/, 'the stale peer is gone');
    // Gone (as after a reboot): made again, and the endpoint reported stale.
    execFileSync('umount', [restarted.namespaceOf(net('n1'))]);
    const rebuilt = await restarted.restore([net('n1')], [ep(1, ns.c1)]);
    assert.deepEqual(rebuilt.stale.map((e) => e.id), ['ep1']);
    const links = sh('nsenter', `--net=${restarted.namespaceOf(net('n1'))}`, 'ip', '-o', 'link', 'show');
    assert.ok(links.includes(`${tag}ov4097`) && links.includes(`${tag}vx4097`), `bridge and VXLAN device made again (got ${links})`);
    await restarted.delete(net('n1'));
    assert.equal(existsSync(restarted.namespaceOf(net('n1'))), false);
  });
});
