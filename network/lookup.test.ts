import assert from 'node:assert/strict';
import { errorKind } from '../lib/errors.js';
import { dnsEntry, dnsScope } from './dns-registration.js';
import { hostsFileFor } from './container-files.js';
import { endpointView, endpointsOfContainer, networkInfo, resolveNetwork } from './lookup.js';
import { emptyState, type EndpointRecord, type ManagerState, type NetworkRecord } from './state.js';

function net(id: string, name: string, dns = true): NetworkRecord {
  return { id, name, driver: 'bridge', bridge: `br-${name}`, subnet: '10.1.0.0/24', gateway: '10.1.0.1', internal: false, labels: { l: name }, options: {}, predefined: false, dns, created: 'now' };
}

function ep(id: string, networkId: string, containerId: string, ip: string, ifname = 'eth0'): EndpointRecord {
  return { id, networkId, containerId, containerName: `c-${containerId}`, aliases: ['svc'], ip, prefix: 24, mac: '02:42:0a:01:00:02', gateway: '10.1.0.1', ifname, hostIf: `tsv${id}`, netnsPath: '/proc/1/ns/net', defaultRoute: ifname === 'eth0' };
}

function state(): ManagerState {
  const s = emptyState();
  s.networks = { abc111: net('abc111', 'front'), abc222: net('abc222', 'back'), ddd333: net('ddd333', 'nodns', false) };
  s.endpoints = { e1: ep('e1', 'abc111', 'c1', '10.1.0.2'), e2: ep('e2', 'abc222', 'c1', '10.2.0.2', 'eth1'), e3: ep('e3', 'ddd333', 'c1', '10.3.0.2', 'eth2'), e4: ep('e4', 'abc111', 'c2', '10.1.0.3') };
  return s;
}

describe('network/lookup', () => {
  it('resolves by exact id, then name, then a unique id prefix', () => {
    const s = state();
    assert.equal(resolveNetwork(s, 'abc111').name, 'front');
    assert.equal(resolveNetwork(s, 'back').id, 'abc222');
    assert.equal(resolveNetwork(s, 'ddd').name, 'nodns');
  });

  it('an ambiguous prefix is invalid, an unknown name not found, with the texts clients see', () => {
    const s = state();
    assert.throws(() => resolveNetwork(s, 'abc'), (e: unknown) => errorKind(e) === 'invalid' && (e as Error).message === 'network abc is ambiguous (2 matches)');
    assert.throws(() => resolveNetwork(s, 'nope'), (e: unknown) => errorKind(e) === 'not-found' && (e as Error).message === 'network nope not found');
  });

  it('views copy the records and list containers on a network', () => {
    const s = state();
    const info = networkInfo(s, s.networks.abc111!);
    assert.deepEqual(Object.keys(info.containers).sort(), ['c1', 'c2']);
    assert.deepEqual(info.containers.c1, { name: 'c-c1', endpointId: 'e1', ip: '10.1.0.2', prefix: 24, mac: '02:42:0a:01:00:02', aliases: ['svc'] });
    info.labels.l = 'changed';
    assert.equal(s.networks.abc111!.labels.l, 'front');
    assert.deepEqual(endpointView(s.endpoints.e2!, s.networks.abc222!), { endpointId: 'e2', networkId: 'abc222', networkName: 'back', ip: '10.2.0.2', prefix: 24, gateway: '10.1.0.1', mac: '02:42:0a:01:00:02', ifname: 'eth1' });
    assert.deepEqual(endpointsOfContainer(s, 'c1').map((e) => e.id), ['e1', 'e2', 'e3']);
  });

  it('DNS: a client sees names of its own DNS-enabled networks; entries carry name, aliases, short id', () => {
    const s = state();
    assert.deepEqual(dnsScope(s, 'abc111', '10.1.0.2'), ['abc111', 'abc222']);
    assert.deepEqual(dnsScope(s, 'abc111', '10.1.0.99'), ['abc111']);
    assert.deepEqual(dnsEntry(s.endpoints.e4!), { id: 'e4', ip: '10.1.0.3', names: ['c-c2', 'svc', 'c2'] });
  });

  it('hosts file: the fixed lines, then one line per endpoint', () => {
    const lines = hostsFileFor(endpointsOfContainer(state(), 'c1'), 'h1').trimEnd().split('\n');
    assert.equal(lines[0], '127.0.0.1\tlocalhost');
    assert.deepEqual(lines.slice(-3), ['10.1.0.2\th1', '10.2.0.2\th1', '10.3.0.2\th1']);
  });
});
