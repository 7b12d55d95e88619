import assert from 'node:assert/strict';
import { FilterError } from '../../lib/filters.js';
import { matchesExtra, parsePortFilter, resolveExtraFilters } from './list-filters.js';
import type { ContainerRecord } from './record.js';

const rec = (o: { id: string; created: string; ports?: string[]; exposed?: string[]; labels?: Record<string, string>; volume?: string }): ContainerRecord =>
  ({
    Id: o.id,
    Created: o.created,
    Config: { ExposedPorts: Object.fromEntries((o.exposed ?? []).map((p) => [p, {}])), Labels: o.labels ?? {} },
    HostConfig: { PortBindings: Object.fromEntries((o.ports ?? []).map((p) => [p, [{ HostPort: '' }]])) },
    Mounts: o.volume ? [{ Type: 'volume', Name: o.volume, Source: `/v/${o.volume}`, Destination: '/data', Mode: '', RW: true, Propagation: '' }] : [],
  }) as unknown as ContainerRecord;

describe('ps filters publish/expose/before/since/volume/is-task', () => {
  const a = rec({ id: 'a', created: '2026-01-01T00:00:01Z', ports: ['80/tcp'] });
  const b = rec({ id: 'b', created: '2026-01-01T00:00:02Z', exposed: ['53/udp'], volume: 'vol' });
  const c = rec({ id: 'c', created: '2026-01-01T00:00:03Z', labels: { 'com.docker.swarm.task.id': 'x' } });
  const all = [a, b, c];
  const lookup = (r: string): ContainerRecord => all.find((x) => x.Id === r) ?? assert.fail(`No such container: ${r}`);
  const pick = (f: Record<string, string[]>): string[] => {
    const ef = resolveExtraFilters(f, lookup);
    return all.filter((x) => matchesExtra(x, ef)).map((x) => x.Id);
  };

  it('matches ports, ranges and protocols as Docker does (tcp when unsaid)', () => {
    assert.deepEqual(pick({ publish: ['80'] }), ['a']);
    assert.deepEqual(pick({ publish: ['70-90/tcp'] }), ['a']);
    assert.deepEqual(pick({ publish: ['80/udp'] }), []);
    assert.deepEqual(pick({ expose: ['53/udp'] }), ['b']);
    assert.deepEqual(pick({ expose: ['80'] }), ['a']); // a published port is exposed too
  });
  it('orders by creation for before/since, and matches volumes and swarm tasks', () => {
    assert.deepEqual(pick({ before: ['c'] }), ['a', 'b']);
    assert.deepEqual(pick({ since: ['a'] }), ['b', 'c']);
    assert.deepEqual(pick({ volume: ['vol'] }), ['b']);
    assert.deepEqual(pick({ volume: ['/data'] }), ['b']);
    assert.deepEqual(pick({ 'is-task': ['true'] }), ['c']);
  });
  it('refuses malformed values, naming the filter', () => {
    assert.throws(() => parsePortFilter('http', 'publish'), (e: unknown) => e instanceof FilterError && /publish=http/.test(e.message));
    assert.throws(() => resolveExtraFilters({ 'is-task': ['maybe'] }, lookup), /is-task=maybe/);
  });
});
