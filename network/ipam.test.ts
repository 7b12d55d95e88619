import assert from 'node:assert/strict';
import { Ipam, IpamError, cidrsOverlap, formatIp, macForIp, parseCidr, parseIp, routesFromIpRoute } from './ipam.js';

describe('network/ipam', () => {
  describe('CIDR math', () => {
    it('parses and formats addresses', () => {
      assert.equal(parseIp('172.17.0.1'), 0xac110001);
      assert.equal(formatIp(0xac110001), '172.17.0.1');
      assert.equal(formatIp(parseIp('255.255.255.255')), '255.255.255.255');
    });
    it('rejects malformed addresses', () => {
      for (const bad of ['1.2.3', '256.1.1.1', '01.2.3.4', 'a.b.c.d', '']) assert.throws(() => parseIp(bad), IpamError);
    });
    it('parses subnets and refuses host bits', () => {
      assert.deepEqual(parseCidr('10.1.0.0/16'), { base: parseIp('10.1.0.0'), prefix: 16 });
      assert.throws(() => parseCidr('10.1.2.3/16'), /host bits are set; did you mean 10.1.0.0\/16/);
      assert.deepEqual(parseCidr('10.1.2.3/16', false), { base: parseIp('10.1.0.0'), prefix: 16 });
      assert.throws(() => parseCidr('10.1.0.0'), /CIDR/);
      assert.throws(() => parseCidr('10.1.0.0/33'), /prefix/);
      assert.deepEqual(parseCidr('0.0.0.0/0'), { base: 0, prefix: 0 });
    });
    it('detects overlap', () => {
      assert.ok(cidrsOverlap(parseCidr('10.0.0.0/8'), parseCidr('10.5.0.0/16')));
      assert.ok(cidrsOverlap(parseCidr('10.5.0.0/16'), parseCidr('10.0.0.0/8')));
      assert.ok(!cidrsOverlap(parseCidr('10.0.0.0/24'), parseCidr('10.0.1.0/24')));
    });
    it('derives Docker-style MACs', () => {
      assert.equal(macForIp('172.17.0.2'), '02:42:ac:11:00:02');
    });
  });

  describe('subnet allocation', () => {
    it('hands out Docker default pools in order', () => {
      const ipam = new Ipam();
      assert.deepEqual(ipam.allocateSubnet('bridge'), { subnet: '172.17.0.0/16', gateway: '172.17.0.1', prefix: 16 });
      assert.equal(ipam.allocateSubnet('a').subnet, '172.18.0.0/16');
      assert.equal(ipam.allocateSubnet('b').subnet, '172.19.0.0/16');
    });
    it('moves on to 192.168.0.0/20 chunks after 172.31', () => {
      const ipam = new Ipam();
      for (let i = 17; i <= 31; i++) assert.equal(ipam.allocateSubnet(`n${i}`).subnet, `172.${i}.0.0/16`);
      assert.equal(ipam.allocateSubnet('x').subnet, '192.168.0.0/20');
      assert.equal(ipam.allocateSubnet('y').subnet, '192.168.16.0/20');
    });
    it('skips subnets that overlap host routes or explicit networks', () => {
      const ipam = new Ipam();
      ipam.allocateSubnet('mine', { subnet: '172.17.5.0/24' });
      assert.equal(ipam.allocateSubnet('a', { avoid: ['172.18.3.0/24'] }).subnet, '172.19.0.0/16');
    });
    it('reuses released subnets', () => {
      const ipam = new Ipam();
      ipam.allocateSubnet('a');
      ipam.allocateSubnet('b');
      ipam.releaseSubnet('a');
      assert.equal(ipam.allocateSubnet('c').subnet, '172.17.0.0/16');
    });
    it('refuses an explicit subnet that overlaps another network, naming both', () => {
      const ipam = new Ipam();
      ipam.allocateSubnet('front', { subnet: '10.10.0.0/16' });
      assert.throws(() => ipam.allocateSubnet('back', { subnet: '10.10.5.0/24' }), /10\.10\.5\.0\/24 overlaps with network front \(10\.10\.0\.0\/16\)/);
      assert.ok(!ipam.has('back'));
    });
    it('validates an explicit gateway', () => {
      const ipam = new Ipam();
      assert.equal(ipam.allocateSubnet('a', { subnet: '10.1.0.0/24', gateway: '10.1.0.254' }).gateway, '10.1.0.254');
      assert.throws(() => ipam.allocateSubnet('b', { subnet: '10.2.0.0/24', gateway: '10.3.0.1' }), /not a usable address/);
      assert.throws(() => ipam.allocateSubnet('c', { subnet: '10.4.0.0/24', gateway: '10.4.0.255' }), /not a usable address/);
    });
    it('refuses subnets too small for a bridge', () => {
      assert.throws(() => new Ipam().allocateSubnet('a', { subnet: '10.0.0.0/31' }), /\/30 or shorter/);
    });
    it('reports exhaustion', () => {
      const ipam = new Ipam(undefined, [{ base: '10.0.0.0/23', size: 24 }]);
      ipam.allocateSubnet('a');
      ipam.allocateSubnet('b');
      assert.throws(() => ipam.allocateSubnet('c'), /no free subnet/);
    });
  });

  describe('address allocation', () => {
    it('skips the gateway, network and broadcast addresses', () => {
      const ipam = new Ipam();
      ipam.allocateSubnet('n', { subnet: '10.0.0.0/29' });
      const got = [1, 2, 3, 4, 5].map(() => ipam.allocateAddress('n'));
      assert.deepEqual(got, ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
      assert.throws(() => ipam.allocateAddress('n'), /no free address/);
    });
    it('honours --ip and refuses duplicates or outsiders', () => {
      const ipam = new Ipam();
      ipam.allocateSubnet('n', { subnet: '10.0.0.0/24' });
      assert.equal(ipam.allocateAddress('n', '10.0.0.50'), '10.0.0.50');
      assert.throws(() => ipam.allocateAddress('n', '10.0.0.50'), /already in use/);
      assert.throws(() => ipam.allocateAddress('n', '10.0.0.1'), /already in use/);
      assert.throws(() => ipam.allocateAddress('n', '10.0.1.5'), /not usable/);
    });
    it('continues after the last address before reusing released ones', () => {
      const ipam = new Ipam();
      ipam.allocateSubnet('n', { subnet: '10.0.0.0/29' });
      const a = ipam.allocateAddress('n');
      ipam.allocateAddress('n');
      ipam.releaseAddress('n', a);
      assert.equal(ipam.allocateAddress('n'), '10.0.0.4');
      for (let i = 0; i < 2; i++) ipam.allocateAddress('n');
      assert.equal(ipam.allocateAddress('n'), a);
    });
    it('round-trips through JSON', () => {
      const ipam = new Ipam();
      ipam.allocateSubnet('n');
      ipam.allocateAddress('n');
      const copy = new Ipam(JSON.parse(JSON.stringify(ipam.toJSON())) as ReturnType<Ipam['toJSON']>);
      assert.equal(copy.allocateAddress('n'), '172.17.0.3');
      assert.equal(copy.allocateSubnet('m').subnet, '172.18.0.0/16');
    });
  });

  it('reads destinations from `ip -4 route`', () => {
    const text = 'default via 10.0.0.1 dev eth0\n10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.5\n192.0.2.7 dev tun0\n';
    assert.deepEqual(routesFromIpRoute(text), ['10.0.0.0/24', '192.0.2.7/32']);
  });
});
