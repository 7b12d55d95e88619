import assert from 'node:assert/strict';
import { PortSpecError, bindingsClash, candidatePorts, parsePublish, publishAll } from './ports.js';

describe('network/ports', () => {
  describe('parsePublish (-p)', () => {
    it('container port only', () => {
      assert.deepEqual(parsePublish('80'), [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPortMin: 0, hostPortMax: 0 }]);
    });
    it('host:container and protocol', () => {
      assert.deepEqual(parsePublish('8080:80/udp'), [{ proto: 'udp', containerPort: 80, hostIp: '0.0.0.0', hostPortMin: 8080, hostPortMax: 8080 }]);
      assert.equal(parsePublish('8080:80/SCTP')[0]!.proto, 'sctp');
    });
    it('ip:host:container and ip::container', () => {
      assert.deepEqual(parsePublish('127.0.0.1:8080:80'), [{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortMin: 8080, hostPortMax: 8080 }]);
      assert.deepEqual(parsePublish('127.0.0.1::80'), [{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortMin: 0, hostPortMax: 0 }]);
    });
    it('matching ranges map port by port', () => {
      assert.deepEqual(
        parsePublish('8000-8001:80-81').map((r) => [r.hostPortMin, r.hostPortMax, r.containerPort]),
        [[8000, 8000, 80], [8001, 8001, 81]],
      );
    });
    it('a host range for one container port is a choice', () => {
      assert.deepEqual(parsePublish('8000-8010:80').map((r) => [r.hostPortMin, r.hostPortMax]), [[8000, 8010]]);
    });
    it('a container range alone gets any host ports', () => {
      assert.equal(parsePublish('80-82').length, 3);
    });
    it('errors name the value and the expected form', () => {
      const cases: [string, RegExp][] = [
        ['', /empty/],
        ['abc', /container port "abc" is not a port/],
        ['0:80', /host port 0 is out of range/],
        ['8080:70000', /out of range/],
        ['8080:80/icmp', /unknown protocol "icmp"/],
        ['1.2.3:80:80', /"1.2.3" is not an IPv4 address/],
        ['1:2:3:4', /too many ":"/],
        ['8000-8002:80-81', /has 3 ports but container range 80-81 has 2/],
        ['90-80', /ends before it starts/],
        ['8080:', /missing container port/],
        ['[::1]:80:80', /IPv6/],
      ];
      for (const [value, re] of cases) {
        assert.throws(() => parsePublish(value), (e: unknown) => {
          assert.ok(e instanceof PortSpecError, `${value}: ${String(e)}`);
          assert.match(e.message, re);
          assert.ok(e.message.includes(`"${value}"`), e.message);
          assert.ok(e.message.includes('[IP:][HOST[-RANGE]:]CONTAINER[-RANGE][/tcp|udp|sctp]'));
          return true;
        });
      }
    });
  });

  it('publishAll (-P) expands exposed ports', () => {
    assert.deepEqual(
      publishAll(['80', '53/udp', '9000-9001/tcp']).map((r) => `${r.containerPort}/${r.proto}:${r.hostPortMin}`),
      ['80/tcp:0', '53/udp:0', '9000/tcp:0', '9001/tcp:0'],
    );
    assert.throws(() => publishAll(['http']), /EXPOSE value "http"/);
  });

  it('candidate ports walk the ephemeral range from a cursor, wrapping', () => {
    const req = { proto: 'tcp' as const, containerPort: 80, hostIp: '0.0.0.0', hostPortMin: 0, hostPortMax: 0 };
    assert.deepEqual(candidatePorts(req, 9, [5, 10]), [9, 10, 5, 6, 7, 8]);
    assert.deepEqual(candidatePorts({ ...req, hostPortMin: 7, hostPortMax: 8 }, 9, [5, 10]), [7, 8]);
  });

  it('0.0.0.0 clashes with any address on the same port and protocol', () => {
    const a = { proto: 'tcp' as const, hostIp: '0.0.0.0', hostPort: 80 };
    assert.ok(bindingsClash(a, { ...a, hostIp: '127.0.0.1' }));
    assert.ok(!bindingsClash(a, { ...a, proto: 'udp' }));
    assert.ok(!bindingsClash({ ...a, hostIp: '10.0.0.1' }, { ...a, hostIp: '127.0.0.1' }));
  });
});
