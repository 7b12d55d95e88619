import assert from 'node:assert/strict';
import { DomainError, errorKind } from '../lib/errors.js';
import { BridgeDriver } from './bridge-driver.js';
import { DriverRegistry, type NetworkDriver } from './driver.js';
import { NetworkError } from './errors.js';
import { NftTable } from './nft.js';
import type { NetworkRecord } from './state.js';

// The bridge driver's pure parts only: plan() and the VIP refusal never touch the kernel.
const bridge = (): BridgeDriver => new BridgeDriver({ nft: new NftTable('tsswarm_unit'), bridgePrefix: 'tsbr-', log: () => undefined });

const rec = (over: Partial<NetworkRecord>): NetworkRecord => ({
  id: 'a'.repeat(64),
  name: 'n',
  driver: 'bridge',
  internal: false,
  labels: {},
  options: {},
  predefined: false,
  dns: true,
  created: '2026-01-01T00:00:00.000Z',
  ...over,
});

describe('network/driver', () => {
  describe('DriverRegistry', () => {
    it('finds a driver by name and answers the engine text for an unknown one', () => {
      const r = new DriverRegistry().register(bridge());
      assert.equal(r.forCreate('bridge').name, 'bridge');
      assert.equal(r.find('overlay'), undefined);
      assert.throws(
        () => r.forCreate('overlay'),
        (e: unknown) => e instanceof NetworkError && e.kind === 'invalid' && e.message === 'network driver "overlay" is not supported here (only "bridge")',
      );
    });

    it('lists every driver in the error once there are several', () => {
      const other = { ...bridge(), name: 'overlay' } as unknown as NetworkDriver;
      const r = new DriverRegistry().register(bridge()).register(other);
      assert.deepEqual(r.names(), ['bridge', 'overlay']);
      assert.throws(() => r.forCreate('macvlan'), /network driver "macvlan" is not supported here \(one of "bridge", "overlay"\)/);
    });

    it('refuses to register a name twice', () => {
      const r = new DriverRegistry().register(bridge());
      assert.throws(() => r.register(bridge()), /network driver "bridge" is registered twice/);
    });
  });

  describe('BridgeDriver.plan', () => {
    it('names the bridge from the prefix and the network id, or from the Docker option', () => {
      const id = '0123456789abcdef'.repeat(4);
      assert.deepEqual(bridge().plan({ id, name: 'n', options: {} }, []), { bridge: 'tsbr-0123456789' });
      assert.deepEqual(bridge().plan({ id, name: 'n', options: { 'com.docker.network.bridge.name': 'mybr0' } }, []), { bridge: 'mybr0' });
    });

    it('refuses bad options as invalid and a bridge name in use as a conflict', () => {
      const id = 'f'.repeat(64);
      assert.throws(
        () => bridge().plan({ id, name: 'n', options: { 'com.docker.network.driver.mtu': '20' } }, []),
        (e: unknown) => errorKind(e) === 'invalid' && /cannot create network n: invalid com\.docker\.network\.driver\.mtu "20"/.test((e as Error).message),
      );
      assert.throws(
        () => bridge().plan({ id, name: 'n', options: { 'com.docker.network.bridge.name': 'way-too-long-a-bridge-name' } }, []),
        (e: unknown) => errorKind(e) === 'invalid' && /cannot create network n:/.test((e as Error).message),
      );
      assert.throws(
        () => bridge().plan({ id, name: 'n', options: { 'com.docker.network.bridge.name': 'br9' } }, [rec({ bridge: 'br9' })]),
        (e: unknown) => errorKind(e) === 'conflict' && (e as Error).message === 'bridge name br9 is already used by another network',
      );
    });
  });

  it('the bridge driver refuses service addresses clearly, as a domain error', async () => {
    await assert.rejects(
      bridge().programmeServiceAddresses(rec({ name: 'front' }), [{ serviceId: 's', vip: '10.0.0.2', backends: ['10.0.0.3'] }]),
      (e: unknown) => e instanceof DomainError && e.kind === 'invalid' && /network front \(driver bridge\) cannot carry service virtual addresses/.test(e.message),
    );
  });
});
