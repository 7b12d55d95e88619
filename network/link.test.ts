import assert from 'node:assert/strict';
import { bridgeCreateScript, endpointContainerScript, endpointHostScript, failedBatchLine, shortName } from './link.js';

describe('network/link (scripts)', () => {
  const ep = {
    bridge: 'tsbr-abc',
    hostIf: 'tsv0123456789',
    netnsPath: '/proc/42/ns/net',
    ifname: 'eth0',
    ip: '172.18.0.2',
    prefix: 16,
    mac: '02:42:ac:12:00:02',
    gateway: '172.18.0.1',
  };

  it('bridge: create, address, up', () => {
    assert.equal(
      bridgeCreateScript({ name: 'tsbr-abc', gateway: '172.18.0.1', prefix: 16, mac: '02:42:ac:12:00:01' }),
      'link add name tsbr-abc address 02:42:ac:12:00:01 type bridge stp_state 0 forward_delay 0\naddr add 172.18.0.1/16 dev tsbr-abc\nlink set dev tsbr-abc up\n',
    );
  });

  it('endpoint: peer created directly in the container namespace, then configured there', () => {
    assert.equal(
      endpointHostScript(ep),
      'link add name tsv0123456789 type veth peer name eth0 address 02:42:ac:12:00:02 netns /proc/42/ns/net\nlink set dev tsv0123456789 master tsbr-abc\nlink set dev tsv0123456789 up\n',
    );
    assert.equal(
      endpointContainerScript(ep),
      'addr add 172.18.0.2/16 dev eth0\nlink set dev eth0 up\nlink set dev lo up\nroute replace default via 172.18.0.1 dev eth0\n',
    );
    assert.ok(!endpointContainerScript({ ...ep, gateway: undefined }).includes('route'));
  });

  it('validates names', () => {
    assert.throws(() => endpointHostScript({ ...ep, hostIf: 'a-name-that-is-too-long' }), /invalid interface name/);
    assert.throws(() => endpointHostScript({ ...ep, netnsPath: '/x y' }), /invalid netns path/);
    assert.equal(shortName('tsv', 'endpoint-1', 10).length, 13);
    assert.equal(shortName('tsv', 'endpoint-1', 10), shortName('tsv', 'endpoint-1', 10));
  });

  it('finds the failing line of a batch', () => {
    assert.equal(failedBatchLine('RTNETLINK answers: File exists\nCommand failed -:3\n'), 3);
    assert.equal(failedBatchLine('weird'), undefined);
  });
});
