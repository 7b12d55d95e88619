// Swarm network creation at the control API: what is refused, by name, and that nothing is stored then.
import assert from 'node:assert/strict';
import { localStore } from '../store/local.js';
import { WorkloadControl } from './workload.js';

const plainBox = { seal: (_a: string, p: Buffer) => p.toString('base64'), open: (_a: string, s: string) => Buffer.from(s, 'base64') };

describe('manager/controlapi networks', () => {
  const setup = () => {
    const store = localStore();
    return { store, control: new WorkloadControl(store, plainBox) };
  };

  it('creates an overlay with a swarm ID, a subnet from the pool and a VXLAN ID', async () => {
    const { control } = setup();
    const { Id } = await control.createNetwork({ Name: 'front', Driver: 'overlay', Attachable: true, Internal: true });
    assert.match(Id, /^[0-9a-z]{25}$/, 'a 25-character base-36 ID, as every swarm object');
    const n = (await control.getNetwork('front')) as { Id: string; Internal: boolean; Attachable: boolean; IPAM: { Config: { Subnet: string }[] }; Options: Record<string, string> };
    assert.equal(n.Id, Id);
    assert.equal(n.Internal, true);
    assert.equal(n.Attachable, true);
    assert.equal(n.IPAM.Config[0]!.Subnet, '10.0.0.0/24');
    assert.equal(n.Options['com.docker.network.driver.overlay.vxlanid_list'], '4096');
  });

  it('refuses --opt encrypted (there is no IPsec), a bad MTU, another driver and a taken name, storing nothing', async () => {
    const { control, store } = setup();
    await assert.rejects(control.createNetwork({ Name: 'sec', Driver: 'overlay', Options: { encrypted: '' } }), /network sec: --opt encrypted \(IPsec between nodes\) is not supported.*clear VXLAN/);
    await assert.rejects(control.createNetwork({ Name: 'm', Options: { 'com.docker.network.driver.mtu': '70000' } }), /network m: --opt com\.docker\.network\.driver\.mtu=70000 is not an MTU \(576-9000\)/);
    await assert.rejects(control.createNetwork({ Name: 'b', Driver: 'bridge' }), /network b: driver "bridge" is not a swarm-scoped driver \(want overlay\)/);
    assert.equal(store.view.list('networks').length, 0);
    await control.createNetwork({ Name: 'front' });
    await assert.rejects(control.createNetwork({ Name: 'front' }), /network with name front already exists/);
    assert.equal(store.view.list('networks').length, 1);
  });
});
