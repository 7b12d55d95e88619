import assert from 'node:assert/strict';
import { renderAddNetwork, renderAddPorts, renderRemoveNetwork, renderRemovePorts, renderTable } from './nft.js';

const open = { bridge: 'tsbr-abc', subnet: '172.18.0.0/16', internal: false };
const internal = { bridge: 'tsbr-int', subnet: '172.19.0.0/16', internal: true };

describe('network/nft', () => {
  it('renders the whole table in one replace transaction', () => {
    const text = renderTable('tsswarm', [open], [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '172.18.0.2', containerPort: 80 }]);
    const lines = text.trim().split('\n');
    // Replaces whatever was there, without touching any other table.
    assert.deepEqual(lines.slice(0, 3), ['add table inet tsswarm', 'delete table inet tsswarm', 'add table inet tsswarm']);
    assert.ok(lines.every((l) => l.includes('inet tsswarm')), 'every statement names our table');
    assert.ok(!/flush ruleset/.test(text));
    for (const hook of ['prerouting priority dstnat', 'output priority -100', 'postrouting priority srcnat', 'forward priority filter']) {
      assert.ok(text.includes(`hook ${hook}`), hook);
    }
    assert.ok(text.includes('fib daddr type local jump published'));
    assert.ok(text.includes('ct status dnat ip saddr 127.0.0.0/8 oifname @bridges masquerade'));
    assert.ok(text.includes('ip saddr @masq_nets oifname != @bridges masquerade'));
    assert.ok(text.includes('add element inet tsswarm pub_any { tcp . 8080 : 172.18.0.2 . 80 }'));
  });

  it('a network is elements plus its own chains, reached through verdict maps', () => {
    const text = renderAddNetwork('t', open);
    assert.ok(text.includes('add element inet t masq_nets { 172.18.0.0/16 }'));
    assert.ok(text.includes('add element inet t fwd_in { "tsbr-abc" : jump in_tsbr_abc }'));
    assert.ok(text.includes('add rule inet t in_tsbr_abc oifname @bridges drop'), 'isolation from other bridges');
    assert.ok(text.includes('add rule inet t out_tsbr_abc ct status dnat accept'), 'published ports may enter');
    assert.ok(!text.includes('chain inet t forward'), 'base chains are not rewritten');
  });

  it('an internal network gets no masquerade and no way out or in', () => {
    const text = renderAddNetwork('t', internal);
    assert.ok(!text.includes('masq_nets'));
    assert.ok(!text.includes('out_tsbr_int ct status dnat accept'));
    assert.match(text, /add rule inet t in_tsbr_int drop\n/);
    assert.match(text, /add rule inet t out_tsbr_int drop\n/);
  });

  it('a network with inter-container communication off routes nothing between its containers', () => {
    const text = renderAddNetwork('t', { ...open, icc: false });
    assert.ok(!text.includes('in_tsbr_abc oifname "tsbr-abc" accept'));
    // Same bridge now falls to the drop for other bridges, after the published-port accept.
    const lines = text.split('\n');
    assert.ok(lines.indexOf('add rule inet t in_tsbr_abc ct status dnat oifname @bridges accept') < lines.indexOf('add rule inet t in_tsbr_abc oifname @bridges drop'));
    assert.ok(renderAddNetwork('t', open).includes('add rule inet t in_tsbr_abc oifname "tsbr-abc" accept'));
  });

  it('removing a network drops references before the chains', () => {
    const lines = renderRemoveNetwork('t', open).trim().split('\n');
    const firstChainDelete = lines.findIndex((l) => l.startsWith('delete chain'));
    const lastElementDelete = lines.map((l) => l.startsWith('delete element')).lastIndexOf(true);
    assert.ok(lastElementDelete < firstChainDelete);
    assert.ok(lines.includes('delete element inet t masq_nets { 172.18.0.0/16 }'));
  });

  it('port mappings are map elements keyed by protocol, port and (optionally) host IP', () => {
    const ports = [
      { proto: 'udp' as const, hostIp: '0.0.0.0', hostPort: 53, containerIp: '172.18.0.2', containerPort: 5353 },
      { proto: 'tcp' as const, hostIp: '127.0.0.1', hostPort: 8080, containerIp: '172.18.0.3', containerPort: 80 },
    ];
    assert.equal(
      renderAddPorts('t', ports),
      'add element inet t pub_any { udp . 53 : 172.18.0.2 . 5353 }\nadd element inet t pub_ip { 127.0.0.1 . tcp . 8080 : 172.18.0.3 . 80 }\n',
    );
    assert.equal(renderRemovePorts('t', ports), 'delete element inet t pub_any { udp . 53 }\ndelete element inet t pub_ip { 127.0.0.1 . tcp . 8080 }\n');
  });

  it('refuses names that could inject statements', () => {
    assert.throws(() => renderTable('x; flush ruleset', [], []), /invalid nftables table name/);
    assert.throws(() => renderAddNetwork('t', { ...open, bridge: 'a" accept' }), /invalid bridge name/);
  });
});
