import assert from 'node:assert/strict';
import { AddressPool, allocateNetwork, FIRST_VNI } from './networks.js';
import { PassNetworks, type NetworkLike } from './attachments.js';

const net = (ID: string, Name: string, Subnet: string, VNI: number, extra: Partial<NetworkLike['Spec']> = {}): NetworkLike & { Name: string; Subnet: string; VNI: number } => ({
  ID,
  Name,
  Subnet,
  VNI,
  Spec: { Name, ...extra },
  IPAMOptions: { Configs: [{ Subnet, Gateway: Subnet.replace(/0\/\d+$/, '1') }] },
  DriverState: { Name: 'overlay', Options: { 'com.docker.network.driver.overlay.vxlanid_list': String(VNI) } },
});

describe('manager/allocator networks', () => {
  it('carves subnets from the default pool in order, skipping taken ones, with VNIs from 4096', () => {
    const a = allocateNetwork('front', {}, [], ['10.0.0.0/8'], 24);
    assert.deepEqual(a, { Subnet: '10.0.0.0/24', Gateway: '10.0.0.1', VNI: FIRST_VNI });
    const b = allocateNetwork('back', {}, [net('n1', 'front', '10.0.0.0/24', 4096), net('n2', 'x', '10.0.2.0/24', 4097)], ['10.0.0.0/8'], 24);
    assert.deepEqual(b, { Subnet: '10.0.1.0/24', Gateway: '10.0.1.1', VNI: 4098 });
  });
  it('honours --subnet/--gateway and refuses overlaps, bad gateways and an exhausted pool, naming them', () => {
    assert.deepEqual(allocateNetwork('a', { Subnet: '192.168.5.0/24', Gateway: '192.168.5.254' }, [], ['10.0.0.0/8'], 24), { Subnet: '192.168.5.0/24', Gateway: '192.168.5.254', VNI: 4096 });
    assert.throws(() => allocateNetwork('b', { Subnet: '10.0.0.0/16' }, [net('n1', 'front', '10.0.3.0/24', 4096)], ['10.0.0.0/8'], 24), /network b: subnet 10\.0\.0\.0\/16 overlaps with network front \(10\.0\.3\.0\/24\)/);
    assert.throws(() => allocateNetwork('c', { Subnet: '10.1.0.0/24', Gateway: '10.2.0.1' }, [], ['10.0.0.0/8'], 24), /gateway 10\.2\.0\.1 is not a host address of 10\.1\.0\.0\/24/);
    const full = [net('n1', 'a', '10.9.0.0/25', 4096), net('n2', 'b', '10.9.0.128/25', 4097)];
    assert.throws(() => allocateNetwork('d', {}, full, ['10.9.0.0/24'], 25), /could not find an available, non-overlapping IPv4 address pool/);
  });
  it('hands out host addresses only once, never the gateway, and says when a network is full', () => {
    const p = new AddressPool({ Name: 'tiny', Subnet: '10.5.0.0/29', Gateway: '10.5.0.1' }, new Set(['10.5.0.3']));
    const got = [p.take(), p.take(), p.take(), p.take()];
    assert.deepEqual(got, ['10.5.0.2/29', '10.5.0.4/29', '10.5.0.5/29', '10.5.0.6/29']);
    assert.throws(() => p.take(), /network tiny \(10\.5\.0\.0\/29\) has no free address left/);
  });
  it('gives a service a VIP per network (ingress too when it publishes), tasks an address each, and reuses released ones', () => {
    const front = net('nf', 'front', '10.0.1.0/24', 4097);
    const ingress = net('ni', 'ingress', '10.0.0.0/24', 4096, { Ingress: true });
    const svc = { ID: 's1', Spec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'x' }, Networks: [{ Target: 'nf' }] } }, Endpoint: { Spec: { Mode: 'vip' as const }, Ports: [{ Protocol: 'tcp' as const, TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' as const }] } };
    const pass = new PassNetworks([front, ingress], [svc], []);
    const vips = pass.virtualIPs(svc)!;
    assert.deepEqual(vips, [{ NetworkID: 'ni', Addr: '10.0.0.2/24' }, { NetworkID: 'nf', Addr: '10.0.1.2/24' }]);
    const a1 = pass.attachments({ ...svc, Endpoint: { ...svc.Endpoint, VirtualIPs: vips } });
    assert.deepEqual(a1.map((a) => [a.Network.ID, a.Addresses]), [['ni', ['10.0.0.3/24']], ['nf', ['10.0.1.3/24']]]);
    // Next pass: the VIP is kept; a deleted task's address is free again.
    const stored = { ...svc, Endpoint: { ...svc.Endpoint, VirtualIPs: vips } };
    const later = new PassNetworks([front, ingress], [stored], []);
    assert.equal(later.virtualIPs(stored), undefined);
    assert.deepEqual(later.attachments(stored)[1]!.Addresses, ['10.0.1.3/24']);
    // dnsrr: no VIP.
    const rr = { ...stored, Spec: { ...stored.Spec, EndpointSpec: { Mode: 'dnsrr' as const } } };
    assert.deepEqual(later.virtualIPs(rr), []);
  });
});
