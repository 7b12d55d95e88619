import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../lib/errors.js';
import { matchesConstraints, parseConstraints, parsePreferences, validatePlacement } from './constraints.js';
import { node } from './testing.js';

const matches = (exprs: string[], n = node('n1')) => matchesConstraints(n, parseConstraints(exprs));

describe('manager/scheduler constraints', () => {
  describe('parseConstraints', () => {
    it('reads == and != with spaces around, keys in any case', () => {
      const [a, b] = parseConstraints(['node.role == manager', 'Node.Labels.zone!=East']);
      assert.deepEqual(a, { expr: 'node.role == manager', key: { kind: 'node.role' }, op: '==', value: 'manager' });
      assert.deepEqual(b, { expr: 'Node.Labels.zone!=East', key: { kind: 'node.labels', label: 'zone' }, op: '!=', value: 'east' });
    });

    it('refuses an expression without an operator, naming it and the two forms', () => {
      assert.throws(
        () => parseConstraints(['node.role=manager'], 'TaskTemplate.Placement.Constraints'),
        (e: Error) => {
          assert.ok(e instanceof InvalidArgumentError);
          assert.equal(e.message, 'invalid TaskTemplate.Placement.Constraints[0] "node.role=manager": expected KEY==VALUE or KEY!=VALUE');
          return true;
        },
      );
    });

    it('refuses an unknown key and lists the keys there are', () => {
      assert.throws(
        () => parseConstraints(['node.role==worker', 'node.zone==a']),
        (e: Error) => {
          assert.match(
            e.message,
            /^invalid constraint\[1\] "node\.zone==a": unknown key "node\.zone"; the key is one of node\.id, node\.hostname, node\.ip, node\.role, node\.platform\.os, node\.platform\.arch, node\.labels\.<label>, engine\.labels\.<label>$/,
          );
          return true;
        },
      );
    });

    it('refuses a malformed key, an empty label and a value with operator characters', () => {
      assert.throws(() => parseConstraints(['9node==x']), /key "9node" is invalid/);
      assert.throws(() => parseConstraints(['node.labels.==x']), /unknown key "node\.labels\."/);
      assert.throws(() => parseConstraints(['node.labels.a==b<c']), /value "b<c" is invalid/);
      assert.throws(() => parseConstraints(['node.labels.a==']), /value "" is invalid/);
    });
  });

  describe('matching', () => {
    const n = node('abc123', {
      hostname: 'Web-1',
      role: 'manager',
      labels: { zone: 'East', Rack: 'r1' },
      engineLabels: { disk: 'ssd' },
      platform: { os: 'linux', arch: 'arm64' },
    });

    it('compares values without case, as Docker does', () => {
      assert.ok(matches(['node.hostname==web-1', 'node.role==MANAGER', 'node.labels.zone==east', 'node.id==ABC123'], n));
      assert.ok(matches(['node.platform.os==Linux', 'node.platform.arch==arm64', 'engine.labels.disk==SSD'], n));
      assert.ok(!matches(['node.hostname==web-2'], n));
    });

    it('takes label names exactly', () => {
      assert.ok(matches(['node.labels.Rack==r1'], n));
      assert.ok(!matches(['node.labels.rack==r1'], n));
    });

    it('reads a missing label as empty: != holds, == does not', () => {
      assert.ok(matches(['node.labels.gpu!=yes'], n));
      assert.ok(!matches(['node.labels.gpu==yes'], n));
      assert.ok(!matches(['engine.labels.gpu==yes'], n));
    });

    it('matches node.ip against an address or a subnet', () => {
      const at = node('n9', { addr: '10.1.2.3' });
      assert.ok(matches(['node.ip==10.1.2.3'], at));
      assert.ok(matches(['node.ip==10.1.0.0/16', 'node.ip!=10.1.3.0/24'], at));
      assert.ok(!matches(['node.ip==10.1.3.0/24'], at));
      assert.ok(matches(['node.ip==fd00::/8'], node('n6', { addr: 'fd00::7' })));
      // An unknown address is in no subnet.
      assert.ok(matches(['node.ip!=10.0.0.0/8'], node('n0')));
      assert.ok(!matches(['node.ip==10.0.0.0/8'], node('n0')));
      assert.throws(() => parseConstraints(['node.ip==10.0.0.0/33']), /value "10\.0\.0\.0\/33" is not an IP address or a CIDR subnet/);
      assert.throws(() => parseConstraints(['node.ip==web-1']), /is not an IP address or a CIDR subnet/);
    });

    it('needs every constraint', () => {
      assert.ok(!matches(['node.role==manager', 'node.labels.zone!=east'], n));
      assert.ok(matches(['node.role==manager', 'node.labels.zone!=west'], n));
    });
  });

  describe('parsePreferences', () => {
    it('reads the CLI form and the API form', () => {
      assert.deepEqual(parsePreferences(['spread=node.labels.zone', { Spread: { SpreadDescriptor: 'engine.labels.rack' } }]), [
        { descriptor: 'node.labels.zone', key: { kind: 'node.labels', label: 'zone' } },
        { descriptor: 'engine.labels.rack', key: { kind: 'engine.labels', label: 'rack' } },
      ]);
    });

    it('refuses another strategy or descriptor, naming the preference', () => {
      assert.throws(
        () => parsePreferences(['binpack=node.labels.zone']),
        /invalid placement preference\[0\] binpack=node\.labels\.zone: expected spread=node\.labels\.<label>/,
      );
      assert.throws(
        () => parsePreferences(['spread=node.hostname']),
        /spread descriptor "node\.hostname" is not node\.labels\.<label> or engine\.labels\.<label>/,
      );
      assert.throws(() => parsePreferences([{ Spread: null }]), /invalid placement preference\[0\] \{"Spread":null\}/);
    });
  });

  it('validatePlacement names the field of a bad constraint or preference', () => {
    validatePlacement({ Constraints: ['node.role==worker'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] });
    validatePlacement(undefined);
    assert.throws(
      () => validatePlacement({ Constraints: ['node.role=worker'] }, 'TaskTemplate.Placement'),
      /invalid TaskTemplate\.Placement\.Constraints\[0\] "node\.role=worker"/,
    );
    assert.throws(() => validatePlacement({ Preferences: ['spread=node.id'] }, 'TaskTemplate.Placement'), /invalid TaskTemplate\.Placement\.Preferences\[0\]/);
  });
});
