import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { nftApply } from '../exec.js';
import { ingressScript } from './ingress.js';

const isRoot = process.getuid?.() === 0;

describe('network/overlay ingress (pure)', () => {
  it('forwards each published port to its tasks (address . target port), masquerading out of the node endpoint', () => {
    const s = ingressScript('tsig0', [{ protocol: 'tcp', port: 8080, targetPort: 80, backends: ['10.0.0.4', '10.0.0.3'] }]);
    assert.match(s, /map p_tcp_8080 \{\n\s+typeof numgen random mod 256 : ip daddr \. tcp dport\n\s+elements = \{ 0 : 10\.0\.0\.3 \. 80, 1 : 10\.0\.0\.4 \. 80,/);
    assert.match(s, /chain pre \{[^}]*fib daddr type local tcp dport 8080 dnat ip to numgen random mod 256 map @p_tcp_8080/);
    assert.match(s, /chain out \{[^}]*fib daddr type local tcp dport 8080 dnat/);
    assert.match(s, /oifname "tsig0" masquerade/);
  });
  it('drops a port with no running task at once, and removes the table when nothing is published', () => {
    assert.match(ingressScript('tsig0', [{ protocol: 'udp', port: 53, targetPort: 53, backends: [] }]), /fib daddr type local udp dport 53 drop/);
    assert.equal(ingressScript('tsig0', []), 'table ip tsswarm_ingress\ndelete table ip tsswarm_ingress\n');
  });
});

(isRoot ? describe : describe.skip)('network/overlay ingress (real nftables in a namespace)', () => {
  const ns = `tsig${randomBytes(2).toString('hex')}`;
  before(() => execFileSync('ip', ['netns', 'add', ns]));
  after(() => spawnSync('ip', ['netns', 'del', ns]));
  it('loads, replaces and removes the table', async () => {
    const path = `/run/netns/${ns}`;
    await nftApply(ingressScript('tsig0', [{ protocol: 'tcp', port: 8080, targetPort: 80, backends: ['10.0.0.3'] }]), path);
    await nftApply(ingressScript('tsig0', [{ protocol: 'tcp', port: 8080, targetPort: 80, backends: ['10.0.0.3', '10.0.0.5'] }, { protocol: 'udp', port: 5353, targetPort: 53, backends: [] }]), path);
    const t = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'tsswarm_ingress'], { encoding: 'utf8' });
    assert.match(t, /1 : 10\.0\.0\.5 \. 80/);
    assert.match(t, /udp dport 5353 drop/);
    await nftApply(ingressScript('tsig0', []), path);
    assert.equal(spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'tsswarm_ingress']).status, 1);
  });
});
