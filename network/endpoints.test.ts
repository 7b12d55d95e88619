import assert from 'node:assert/strict';
import { errorKind } from '../lib/errors.js';
import { netnsPath, planEndpoint } from './endpoints.js';
import type { NetworkRecord } from './state.js';

const net = (id: string, internal = false): NetworkRecord => ({ id, name: id, driver: 'bridge', bridge: `br${id}`, internal, labels: {}, options: {}, predefined: false, dns: true, created: 'now' });
const req = { network: 'x', containerId: 'c'.repeat(64), containerName: 'web', netns: { pid: 42 }, aliases: ['svc'] };
const addr = { ip: '10.9.0.2', prefix: 24, gateway: '10.9.0.1' };

describe('network/endpoints', () => {
  it('numbers interfaces in connect order and gives the default route to the first non-internal network', () => {
    const first = planEndpoint('a'.repeat(64), net('int', true), req, addr, []);
    assert.equal(first.ifname, 'eth0');
    assert.equal(first.defaultRoute, false);
    const second = planEndpoint('b'.repeat(64), net('ext'), req, addr, [first]);
    assert.equal(second.ifname, 'eth1');
    assert.equal(second.defaultRoute, true);
    const third = planEndpoint('d'.repeat(64), net('ext2'), req, addr, [second]);
    assert.equal(third.ifname, 'eth0', 'a freed eth0 is taken again');
    assert.equal(third.defaultRoute, false);
    assert.equal(second.mac, '02:42:0a:09:00:02');
    assert.equal(second.netnsPath, '/proc/42/ns/net');
    assert.match(second.hostIf, /^tsv[0-9a-f]{10}$/);
    assert.deepEqual(second.aliases, ['svc']);
  });

  it('refuses a bad pid or netns path as invalid input', () => {
    assert.equal(netnsPath({ path: '/run/netns/x' }), '/run/netns/x');
    assert.throws(() => netnsPath({ pid: 0 }), (e: unknown) => errorKind(e) === 'invalid' && (e as Error).message === 'invalid pid 0');
    assert.throws(() => netnsPath({ path: 'rel/path' }), (e: unknown) => errorKind(e) === 'invalid' && (e as Error).message === 'invalid netns path "rel/path"');
  });
});
