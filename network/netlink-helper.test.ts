// The tsnetlink helper against the real kernel: a "host" and a "container" namespace of our own (prefix
// tsnl + random), a bridge in the host one, then endpoints made, checked with `ip`, broken on purpose
// (rollback) and deleted. The `ip` fallback is checked to make the same links.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEndpoint, createBridge, deleteLink, disconnectEndpoint, type EndpointSpec } from './link.js';
import { NetlinkServer, delArgs, netlinkHelperSource, runHelper, vethArgs } from './netlink-helper.js';

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
const isRoot = process.getuid?.() === 0;

describe('network/netlink-helper (vethArgs)', () => {
  it('passes the endpoint as positional arguments, "-" for no gateway and 0 for no MTU', () => {
    const a = { hostIf: 'tsv1', bridge: 'br0', netnsPath: '/proc/1/ns/net', ifname: 'eth0', mac: '02:42:ac:11:00:02', ip: '172.17.0.2', prefix: 16 };
    assert.deepEqual(vethArgs(a), ['veth', 'tsv1', 'br0', '/proc/1/ns/net', 'eth0', '02:42:ac:11:00:02', '172.17.0.2/16', '-', '0']);
    assert.deepEqual(vethArgs({ ...a, gateway: '172.17.0.1', mtu: 1400 }, '/run/netns/h').slice(0, 3), ['--host-netns', '/run/netns/h', 'veth']);
    assert.deepEqual(vethArgs({ ...a, gateway: '172.17.0.1', mtu: 1400 }).slice(-2), ['172.17.0.1', '1400']);
    assert.deepEqual(delArgs('tsv1'), ['del', 'tsv1']);
  });
});

(isRoot ? describe : describe.skip)('network/netlink-helper (real kernel)', function () {
  this.timeout(30_000);
  const tag = `tsnl${randomBytes(3).toString('hex')}`;
  const hostNs = `${tag}-h`;
  const ctrNs = `${tag}-c`;
  const hostPath = `/run/netns/${hostNs}`;
  const ctrPath = `/run/netns/${ctrNs}`;
  const bridge = `${tag}br`;
  let dir = '';
  let helper = '';
  const saved = process.env.TSSWARM_TSNETLINK;

  const ep = (n: number, over: Partial<EndpointSpec> = {}): EndpointSpec => ({
    bridge,
    hostIf: `${tag}v${n}`,
    netnsPath: ctrPath,
    ifname: `eth${n}`,
    ip: `10.231.0.${10 + n}`,
    prefix: 24,
    mac: `02:42:0a:e7:00:${(10 + n).toString(16).padStart(2, '0')}`,
    gateway: '10.231.0.1',
    ...over,
  });
  const links = (ns: string): string => ip('-n', ns, '-o', 'link', 'show');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsnl-'));
    helper = join(dir, 'tsnetlink');
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-static-pie', '-o', helper, netlinkHelperSource()], { stdio: 'inherit' });
    ip('netns', 'add', hostNs);
    ip('netns', 'add', ctrNs);
    process.env.TSSWARM_TSNETLINK = helper;
    await createBridge({ name: bridge, gateway: '10.231.0.1', prefix: 24 }, hostPath);
  });

  after(() => {
    if (saved === undefined) delete process.env.TSSWARM_TSNETLINK;
    else process.env.TSSWARM_TSNETLINK = saved;
    // Deleting the namespaces takes every link made in them.
    for (const ns of [hostNs, ctrNs]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes the pair, plugs the host end into the bridge and configures the container end', async () => {
    await connectEndpoint({ ...ep(0), mtu: 1400 }, hostPath);
    const host = ip('-n', hostNs, '-d', '-o', 'link', 'show', `${tag}v0`);
    assert.match(host, new RegExp(`master ${bridge}`));
    assert.match(host, /state UP/);
    assert.match(host, /mtu 1400/);
    const ctr = ip('-n', ctrNs, '-o', 'link', 'show', 'eth0');
    assert.match(ctr, /link\/ether 02:42:0a:e7:00:0a/);
    assert.match(ctr, /mtu 1400/);
    assert.match(ctr, /<[^>]*\bUP\b/);
    assert.match(ip('-n', ctrNs, '-o', 'addr', 'show', 'dev', 'eth0'), /inet 10\.231\.0\.10\/24/);
    assert.match(ip('-n', ctrNs, '-o', 'link', 'show', 'lo'), /<[^>]*\bUP\b/);
    assert.match(ip('-n', ctrNs, 'route', 'show', 'default'), /default via 10\.231\.0\.1 dev eth0/);
    // Layer 2 works across the pair and the bridge: a datagram to the gateway makes the container
    // resolve the bridge's MAC by ARP (polled by count; ARP is asynchronous).
    const brMac = /link\/ether (\S+)/.exec(ip('-n', hostNs, '-o', 'link', 'show', bridge))![1]!;
    let neigh = '';
    for (let i = 0; i < 100 && !neigh.includes(brMac); i++) {
      execFileSync('ip', ['netns', 'exec', ctrNs, 'bash', '-c', 'echo x > /dev/udp/10.231.0.1/9 || true'], { stdio: 'ignore' });
      neigh = ip('-n', ctrNs, 'neigh', 'show', '10.231.0.1');
      if (!neigh.includes(brMac)) execFileSync('sleep', ['0.02']);
    }
    assert.match(neigh, new RegExp(`lladdr ${brMac}`));
  });

  it('a second endpoint without a gateway adds no route', async () => {
    await connectEndpoint(ep(1, { gateway: undefined }), hostPath);
    assert.match(ip('-n', ctrNs, '-o', 'addr', 'show', 'dev', 'eth1'), /inet 10\.231\.0\.11\/24/);
    assert.doesNotMatch(ip('-n', ctrNs, 'route', 'show', 'default'), /eth1/);
  });

  it('names the link and the netlink error, and rolls back a half-made endpoint', async () => {
    // The gateway is off-link: the route step fails after the pair exists; nothing may remain.
    await assert.rejects(connectEndpoint(ep(2, { gateway: '10.99.0.1' }), hostPath), (e: Error) => {
      assert.match(e.message, new RegExp(`cannot attach eth2 \\(10\\.231\\.0\\.12\\) in ${ctrPath} to bridge ${bridge}`));
      assert.match(e.message, /default route .* on eth2 in .*: Network is unreachable \(netlink error 101/);
      return true;
    });
    assert.doesNotMatch(links(hostNs), new RegExp(`${tag}v2`));
    assert.doesNotMatch(links(ctrNs), /eth2/);
  });

  it('a name taken by someone else is reported and not deleted', async () => {
    await assert.rejects(connectEndpoint(ep(0, { ifname: 'eth9', ip: '10.231.0.99' }), hostPath), /create veth .*v0 .*File exists \(netlink error 17/);
    assert.match(links(hostNs), new RegExp(`${tag}v0`));
  });

  it('a missing bridge is named', async () => {
    await assert.rejects(connectEndpoint(ep(3, { bridge: `${tag}nob` }), hostPath), new RegExp(`bridge ${tag}nob: no such device`));
    assert.doesNotMatch(links(hostNs), new RegExp(`${tag}v3`));
  });

  it('deletes a link, and a missing one is fine', async () => {
    await deleteLink(`${tag}v1`, hostPath);
    assert.doesNotMatch(links(hostNs), new RegExp(`${tag}v1`));
    assert.doesNotMatch(links(ctrNs), /eth1/);
    await deleteLink(`${tag}v1`, hostPath);
    await runHelper(helper, delArgs(`${tag}v1`, hostPath));
  });

  it('disconnect takes the host end off the bridge at once and the pair goes in the background', async () => {
    await connectEndpoint(ep(6), hostPath);
    await disconnectEndpoint(`${tag}v6`, hostPath);
    // Either already gone, or down and no longer a port of the bridge.
    const left = links(hostNs).split('\n').find((l) => l.includes(`${tag}v6`));
    if (left) {
      assert.doesNotMatch(left, new RegExp(`master ${bridge}`));
      assert.doesNotMatch(left, /<[^>]*\bUP\b/);
    }
    let gone = false;
    for (let i = 0; i < 500 && !gone; i++) {
      gone = !links(hostNs).includes(`${tag}v6`) && !links(ctrNs).includes('eth6');
      if (!gone) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(gone, 'the released pair was never deleted');
    await disconnectEndpoint(`${tag}v6`, hostPath);
  });

  it('the server returns to its own namespace after each request, survives its child dying, and refuses what the wire cannot carry', async () => {
    const server = new NetlinkServer(helper);
    try {
      await server.request(vethArgs(ep(5), hostPath));
      const pid = server.pid!;
      assert.equal(readlinkSync(`/proc/${pid}/ns/net`), readlinkSync('/proc/self/ns/net'));
      assert.match(ip('-n', ctrNs, '-o', 'addr', 'show', 'dev', 'eth5'), /inet 10\.231\.0\.15\/24/);
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 1000 && existsSync(`/proc/${pid}/ns`); i++) await new Promise((r) => setTimeout(r, 5));
      await server.request(delArgs(`${tag}v5`, hostPath));
      assert.notEqual(server.pid, pid);
      assert.doesNotMatch(links(ctrNs), /eth5/);
      await assert.rejects(server.request(['del', 'a\tb']), /cannot be passed to tsnetlink/);
      await assert.rejects(server.request(['nonsense']), /usage: tsnetlink/);
    } finally {
      server.close();
    }
  });

  it('the ip fallback makes the same endpoint', async () => {
    process.env.TSSWARM_TSNETLINK = 'off';
    try {
      await connectEndpoint(ep(4), hostPath);
    } finally {
      process.env.TSSWARM_TSNETLINK = helper;
    }
    assert.match(ip('-n', hostNs, '-o', 'link', 'show', `${tag}v4`), new RegExp(`master ${bridge}.*state UP`));
    assert.match(ip('-n', ctrNs, '-o', 'addr', 'show', 'dev', 'eth4'), /inet 10\.231\.0\.14\/24/);
    await deleteLink(`${tag}v4`, hostPath);
    assert.doesNotMatch(links(ctrNs), /eth4/);
  });
});
