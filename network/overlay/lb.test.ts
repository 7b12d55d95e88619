import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { applyLb, lbScript, slots, SLOTS } from './lb.js';

const isRoot = process.getuid?.() === 0;

describe('network/overlay lb (pure)', () => {
  it('fills the slots round-robin over the sorted backends', () => {
    const s = slots(['10.0.1.4', '10.0.1.3', '10.0.1.5']);
    assert.equal(s.length, SLOTS);
    assert.deepEqual(s.slice(0, 4), ['10.0.1.3', '10.0.1.4', '10.0.1.5', '10.0.1.3']);
    const per = new Map<string, number>();
    for (const ip of s) per.set(ip, (per.get(ip) ?? 0) + 1);
    assert.ok(Math.max(...per.values()) - Math.min(...per.values()) <= 1);
    assert.deepEqual(slots([]), []);
  });
  it('builds the table once, then changes only map elements as backends come and go', () => {
    const a = lbScript(undefined, [{ vip: '10.0.1.2', backends: ['10.0.1.3'] }]);
    assert.match(a.script, /dnat to numgen random mod 256 map @vip_10_0_1_2/);
    const b = lbScript(a.next, [{ vip: '10.0.1.2', backends: ['10.0.1.3', '10.0.1.4'] }]);
    assert.doesNotMatch(b.script, /table ip tsswarm_lb \{|add rule/);
    assert.match(b.script, /^delete element ip tsswarm_lb vip_10_0_1_2 \{ 1, 3, 5/m);
    assert.match(b.script, /^add element ip tsswarm_lb vip_10_0_1_2 \{ 1 : 10\.0\.1\.4, 3 : 10\.0\.1\.4/m);
    assert.equal(lbScript(b.next, [{ vip: '10.0.1.2', backends: ['10.0.1.4', '10.0.1.3'] }]).script, '', 'same backends: nothing to do');
    const c = lbScript(b.next, []);
    assert.match(c.script, /delete table ip tsswarm_lb/);
    // A VIP losing its last task is refused (set element), and taken back when one returns.
    const d = lbScript(b.next, [{ vip: '10.0.1.2', backends: [] }]);
    assert.match(d.script, /^add element ip tsswarm_lb empty \{ 10\.0\.1\.2 \}$/m);
    assert.match(lbScript(d.next, [{ vip: '10.0.1.2', backends: ['10.0.1.9'] }]).script, /^delete element ip tsswarm_lb empty \{ 10\.0\.1\.2 \}$/m);
  });
});

(isRoot ? describe : describe.skip)('network/overlay lb (real nftables in a namespace)', () => {
  const ns = `tslb${randomBytes(2).toString('hex')}`;
  before(() => execFileSync('ip', ['netns', 'add', ns]));
  after(() => spawnSync('ip', ['netns', 'del', ns]));
  it('applies the table and then the element updates', async () => {
    const path = `/run/netns/${ns}`;
    const a = lbScript(undefined, [{ vip: '10.0.1.2', backends: ['10.0.1.3'] }]);
    await applyLb(path, a.script);
    const b = lbScript(a.next, [{ vip: '10.0.1.2', backends: ['10.0.1.3', '10.0.1.4'] }, { vip: '10.0.2.2', backends: ['10.0.2.3'] }]);
    await applyLb(path, b.script);
    const e = lbScript(b.next, [{ vip: '10.0.1.2', backends: ['10.0.1.3', '10.0.1.4'] }, { vip: '10.0.2.2', backends: [] }]);
    await applyLb(path, e.script);
    assert.match(execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'set', 'ip', 'tsswarm_lb', 'empty'], { encoding: 'utf8' }), /elements = \{ 10\.0\.2\.2 \}/);
    await applyLb(path, lbScript(e.next, [{ vip: '10.0.1.2', backends: ['10.0.1.3', '10.0.1.4'] }, { vip: '10.0.2.2', backends: ['10.0.2.3'] }]).script);
    const listed = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'tsswarm_lb'], { encoding: 'utf8' });
    assert.match(listed, /0 : 10\.0\.1\.3, 1 : 10\.0\.1\.4/);
    assert.match(listed, /ip daddr 10\.0\.2\.2 dnat to numgen random mod 256 map @vip_10_0_2_2/);
    await applyLb(path, lbScript(b.next, []).script);
    assert.equal(spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'tsswarm_lb']).status, 1);
  });
});
