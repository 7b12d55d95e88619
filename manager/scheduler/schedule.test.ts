import assert from 'node:assert/strict';
import { schedule } from './schedule.js';
import { CPU, GiB, node, task, tasks } from './testing.js';
import type { SchedInput, SchedResult, SchedTask } from './types.js';

/** Tasks per node ID (and per service when given). */
function perNode(r: SchedResult, input: SchedInput, serviceId?: string): Record<string, number> {
  const svc = new Map(input.pending.map((t) => [t.id, t.serviceId]));
  const out: Record<string, number> = {};
  for (const a of r.assigned) if (serviceId === undefined || svc.get(a.taskId) === serviceId) out[a.nodeId] = (out[a.nodeId] ?? 0) + 1;
  return out;
}

const reasons = (r: SchedResult) => [...new Set(r.unassigned.map((u) => u.reason))];

describe('manager/scheduler schedule', () => {
  describe('filters', () => {
    it('places only on ready, active nodes; the others are "not available for new tasks"', () => {
      const input: SchedInput = {
        nodes: [node('a', { state: 'down' }), node('b', { availability: 'drain' }), node('c', { availability: 'pause' }), node('d')],
        placed: [],
        pending: tasks(3, 't', 's1'),
      };
      const r = schedule(input);
      assert.deepEqual(perNode(r, input), { d: 3 });
      assert.deepEqual(r.unassigned, []);
      const none = schedule({ ...input, nodes: input.nodes.slice(0, 3) });
      assert.deepEqual(reasons(none), ['no suitable node (3 nodes not available for new tasks)']);
      assert.equal(none.unassigned.length, 3);
    });

    it('keeps reservations of placed and newly placed tasks within the node', () => {
      const input: SchedInput = {
        nodes: [node('a', { resources: { nanoCPUs: 2 * CPU, memoryBytes: 1 * GiB } }), node('b', { resources: { nanoCPUs: 2 * CPU, memoryBytes: 1 * GiB } })],
        // Another service already holds 1 CPU on a.
        placed: [task('old', 'other', { nodeId: 'a', reservations: { nanoCPUs: 1 * CPU, memoryBytes: 0 } })],
        pending: tasks(5, 't', 's1', { reservations: { nanoCPUs: 0.5 * CPU, memoryBytes: 256 * 2 ** 20 } }),
      };
      const r = schedule(input);
      // a: 1 CPU left → 2 tasks; b: 2 CPUs but 1 GiB → 4 by memory. 5 fit.
      assert.equal(r.unassigned.length, 0);
      assert.deepEqual(perNode(r, input), { a: 2, b: 3 });
      const more = schedule({ ...input, pending: tasks(7, 't', 's1', { reservations: { nanoCPUs: 0.5 * CPU, memoryBytes: 256 * 2 ** 20 } }) });
      assert.deepEqual(perNode(more, input), { a: 2, b: 4 });
      assert.deepEqual(more.unassigned, [{ taskId: 't-000007', reason: 'no suitable node (insufficient resources on 2 nodes)' }]);
    });

    it('honours constraints on id, hostname, role, platform, node and engine labels', () => {
      const nodes = [
        node('m1', { role: 'manager', labels: { zone: 'a' } }),
        node('w1', { labels: { zone: 'a' }, engineLabels: { disk: 'ssd' } }),
        node('w2', { labels: { zone: 'b' }, platform: { os: 'linux', arch: 'arm64' }, hostname: 'edge' }),
      ];
      const where = (constraints: string[]) => {
        const input = { nodes, placed: [], pending: tasks(2, 't', 's', { constraints }) };
        return Object.keys(perNode(schedule(input), input)).sort();
      };
      assert.deepEqual(where(['node.role==manager']), ['m1']);
      assert.deepEqual(where(['node.role!=manager']), ['w1', 'w2']);
      assert.deepEqual(where(['node.labels.zone==A']), ['m1', 'w1']);
      assert.deepEqual(where(['engine.labels.disk==ssd']), ['w1']);
      assert.deepEqual(where(['node.platform.arch==arm64']), ['w2']);
      assert.deepEqual(where(['node.hostname==EDGE', 'node.platform.os==linux']), ['w2']);
      assert.deepEqual(where(['node.id!=w1', 'node.labels.zone==a']), ['m1']);
      const none = schedule({ nodes, placed: [], pending: tasks(1, 't', 's', { constraints: ['node.labels.zone==c'] }) });
      assert.deepEqual(reasons(none), ['no suitable node (scheduling constraints not satisfied on 3 nodes)']);
    });

    it('refuses a second task of a host-mode port on a node, per protocol and port', () => {
      const nodes = [node('a'), node('b')];
      const web = { hostPorts: [{ protocol: 'tcp' as const, port: 80 }] };
      const input: SchedInput = { nodes, placed: [task('old', 'x', { nodeId: 'a', ...web })], pending: tasks(2, 't', 's', web) };
      const r = schedule(input);
      assert.deepEqual(perNode(r, input), { b: 1 });
      assert.deepEqual(r.unassigned, [{ taskId: 't-000002', reason: 'no suitable node (host-mode port already in use on 2 nodes)' }]);
      // udp/80 and port 0 (any free port) do not conflict.
      const udp = schedule({
        nodes,
        placed: input.placed,
        pending: tasks(2, 'u', 's', {
          hostPorts: [
            { protocol: 'udp', port: 80 },
            { protocol: 'tcp', port: 0 },
          ],
        }),
      });
      assert.equal(udp.assigned.length, 2);
    });

    it('matches Placement.Platforms, x86_64 as amd64', () => {
      const nodes = [
        node('a', { platform: { os: 'linux', arch: 'x86_64' } }),
        node('b', { platform: { os: 'linux', arch: 'arm64' } }),
        node('c', { platform: { os: 'windows', arch: 'amd64' } }),
      ];
      const input = { nodes, placed: [], pending: tasks(2, 't', 's', { platforms: [{ os: 'linux', arch: 'amd64' }] }) };
      const r = schedule(input);
      assert.deepEqual(perNode(r, input), { a: 2 });
      const none = schedule({ nodes, placed: [], pending: tasks(1, 't', 's', { platforms: [{ arch: 's390x' }] }) });
      assert.deepEqual(reasons(none), ['no suitable node (unsupported platform on 3 nodes)']);
    });

    it('caps tasks of a service per node with MaxReplicas, counting placed ones', () => {
      const input: SchedInput = {
        nodes: [node('a'), node('b'), node('c')],
        placed: [task('old', 's', { nodeId: 'a' }), task('old2', 's', { nodeId: 'a' }), task('x', 'other', { nodeId: 'b' })],
        pending: tasks(4, 't', 's', { maxReplicas: 2 }),
      };
      const r = schedule(input);
      assert.deepEqual(perNode(r, input), { b: 2, c: 2 });
      const more = schedule({ ...input, pending: tasks(5, 't', 's', { maxReplicas: 2 }) });
      assert.deepEqual(more.unassigned, [{ taskId: 't-000005', reason: 'no suitable node (max replicas per node limit exceed)' }]);
    });

    it('explains with each filter that turned nodes away, most nodes first', () => {
      const nodes = [
        node('a', { state: 'down' }),
        node('b', { labels: { zone: 'x' } }),
        node('c', { labels: { zone: 'x' } }),
        node('d', { resources: { nanoCPUs: CPU, memoryBytes: GiB } }),
        node('e', { availability: 'drain', labels: { zone: 'x' } }),
      ];
      const pending = tasks(1, 't', 's', { constraints: ['node.labels.zone!=x'], reservations: { nanoCPUs: 2 * CPU, memoryBytes: 0 } });
      const r = schedule({ nodes, placed: [], pending });
      // A node counts once, against the first filter it fails (e: not available, though its label fails too).
      assert.deepEqual(reasons(r), [
        'no suitable node (2 nodes not available for new tasks; scheduling constraints not satisfied on 2 nodes; insufficient resources on 1 node)',
      ]);
      assert.deepEqual(reasons(schedule({ nodes: [], placed: [], pending })), ['no suitable node']);
    });

    it('keeps a task with a constraint it cannot read pending, with the parse error', () => {
      const r = schedule({ nodes: [node('a')], placed: [], pending: tasks(2, 't', 's', { constraints: ['node.zone==a'] }) });
      assert.equal(r.assigned.length, 0);
      assert.equal(r.unassigned.length, 2);
      assert.match(r.unassigned[0]!.reason, /^no suitable node \(invalid Placement\.Constraints\[0\] "node\.zone==a": unknown key/);
    });
  });

  describe('tasks bound to a node (global services)', () => {
    it('checks only that node and explains its failure alone', () => {
      const nodes = [node('a'), node('b', { availability: 'drain' }), node('c', { resources: { nanoCPUs: CPU, memoryBytes: GiB } })];
      const res = { reservations: { nanoCPUs: 2 * CPU, memoryBytes: 0 } };
      const r = schedule({
        nodes,
        placed: [],
        pending: [
          task('g-a', 'g', { nodeId: 'a', ...res }),
          task('g-b', 'g', { nodeId: 'b', ...res }),
          task('g-c', 'g', { nodeId: 'c', ...res }),
          task('g-z', 'g', { nodeId: 'z' }),
        ],
      });
      assert.deepEqual(r.assigned, [{ taskId: 'g-a', nodeId: 'a' }]);
      assert.deepEqual(r.unassigned, [
        { taskId: 'g-b', reason: '1 node not available for new tasks' },
        { taskId: 'g-c', reason: 'insufficient resources on 1 node' },
        { taskId: 'g-z', reason: 'no suitable node (node z is not in the cluster)' },
      ]);
    });
  });

  describe('ranking', () => {
    it('spreads evenly over a label, nodes without it as one more group', () => {
      const nodes = [
        node('a1', { labels: { zone: 'a' } }),
        node('b1', { labels: { zone: 'b' } }),
        node('b2', { labels: { zone: 'b' } }),
        node('b3', { labels: { zone: 'b' } }),
        node('n1'),
        node('n2'),
      ];
      const input = { nodes, placed: [], pending: tasks(9, 't', 's', { spread: ['node.labels.zone'] }) };
      const r = schedule(input);
      assert.deepEqual(perNode(r, input), { a1: 3, b1: 1, b2: 1, b3: 1, n1: 2, n2: 1 });
    });

    it('spreads over two nested labels', () => {
      const nodes: ReturnType<typeof node>[] = [];
      // dc1 has racks r1 (2 nodes) and r2 (1 node); dc2 has rack r1 (1 node).
      nodes.push(node('1a', { labels: { dc: 'dc1', rack: 'r1' } }), node('1b', { labels: { dc: 'dc1', rack: 'r1' } }));
      nodes.push(node('1c', { labels: { dc: 'dc1', rack: 'r2' } }), node('2a', { labels: { dc: 'dc2', rack: 'r1' } }));
      const input = { nodes, placed: [], pending: tasks(8, 't', 's', { spread: ['node.labels.dc', 'node.labels.rack'] }) };
      const r = schedule(input);
      // 4 per dc; in dc1, 2 per rack; in r1 of dc1, 1 per node.
      assert.deepEqual(perNode(r, input), { '1a': 1, '1b': 1, '1c': 2, '2a': 4 });
    });

    it("counts the service's placed tasks when spreading", () => {
      const nodes = [node('a', { labels: { zone: 'a' } }), node('b', { labels: { zone: 'b' } })];
      const placed = [task('o1', 's', { nodeId: 'a' }), task('o2', 's', { nodeId: 'a' }), task('o3', 'other', { nodeId: 'b' })];
      const input = { nodes, placed, pending: tasks(4, 't', 's', { spread: ['node.labels.zone'] }) };
      assert.deepEqual(perNode(schedule(input), input), { a: 1, b: 3 });
    });

    it('prefers fewest tasks of the service, then fewest tasks in all, then the lowest node ID', () => {
      const nodes = [node('n3'), node('n1'), node('n2')];
      const placed = [
        task('x1', 'other', { nodeId: 'n1' }),
        task('x2', 'other', { nodeId: 'n1' }),
        task('x3', 'other', { nodeId: 'n3' }),
        task('s0', 's', { nodeId: 'n2' }),
      ];
      const r = schedule({ nodes, placed, pending: tasks(3, 't', 's') });
      // n2 already has one of s. n3 (1 task) before n1 (2 tasks); then n1; then all have one of s
      // and n2 (1 task) < n3 (2) < n1 (3).
      assert.deepEqual(
        r.assigned.map((a) => a.nodeId),
        ['n3', 'n1', 'n2'],
      );
    });

    it('balances several services over the nodes', () => {
      const nodes = Array.from({ length: 10 }, (_, i) => node(`n${i}`));
      const pending = [...tasks(25, 'a', 'sa'), ...tasks(15, 'b', 'sb')];
      const input = { nodes, placed: [], pending };
      const r = schedule(input);
      const all = Object.values(perNode(r, input));
      const a = Object.values(perNode(r, input, 'sa'));
      const b = Object.values(perNode(r, input, 'sb'));
      assert.equal(r.assigned.length, 40);
      assert.deepEqual([Math.min(...all), Math.max(...all)], [4, 4]);
      assert.deepEqual([Math.min(...a), Math.max(...a)], [2, 3]);
      assert.deepEqual([Math.min(...b), Math.max(...b)], [1, 2]);
    });

    it('places tasks of one service with different specs against the same counts', () => {
      const nodes = [node('a'), node('b')];
      const old = tasks(1, 'old', 's', { reservations: { nanoCPUs: 1, memoryBytes: 0 } });
      const neu = tasks(1, 'new', 's', { reservations: { nanoCPUs: 2, memoryBytes: 0 } });
      const r = schedule({ nodes, placed: [], pending: [...neu, ...old] });
      assert.deepEqual(new Set(r.assigned.map((a) => a.nodeId)), new Set(['a', 'b']));
    });

    it('places 10,000 tasks on 100 nodes exactly evenly', () => {
      const nodes = Array.from({ length: 100 }, (_, i) => node(`node-${String(i).padStart(3, '0')}`));
      const input = { nodes, placed: [], pending: tasks(10_000, 't', 's') };
      const counts = Object.values(perNode(schedule(input), input));
      assert.equal(counts.length, 100);
      assert.ok(counts.every((c) => c === 100));
    });
  });

  it('gives the same result whatever the order of its input', () => {
    const nodes = Array.from({ length: 12 }, (_, i) =>
      node(`n${String(i).padStart(2, '0')}`, { labels: { zone: `z${i % 3}` }, resources: { nanoCPUs: 4 * CPU, memoryBytes: 4 * GiB } }),
    );
    const pending: SchedTask[] = [
      ...tasks(20, 'a', 'sa', { spread: ['node.labels.zone'], reservations: { nanoCPUs: CPU, memoryBytes: 0 } }),
      ...tasks(30, 'b', 'sb', { maxReplicas: 2 }),
      ...tasks(3, 'c', 'sc', { hostPorts: [{ protocol: 'tcp', port: 443 }], constraints: ['node.labels.zone==z1'] }),
    ];
    const placed = [task('p1', 'sa', { nodeId: 'n04' }), task('p2', 'sb', { nodeId: 'n07' })];
    const first = schedule({ nodes, placed, pending });
    // A fixed permutation (reversal and interleaving) stands in for any order.
    const shuffle = <T>(xs: T[]): T[] => [...xs.filter((_, i) => i % 2 === 1).reverse(), ...xs.filter((_, i) => i % 2 === 0)];
    const again = schedule({ nodes: shuffle(nodes), placed: shuffle(placed), pending: shuffle(pending) });
    assert.deepEqual(again, first);
    assert.equal(first.assigned.length + first.unassigned.length, pending.length);
    // sc: 4 nodes in z1 but all tasks of the batch need port 443: 3 fit.
    assert.equal(first.assigned.filter((a) => a.taskId.startsWith('c-')).length, 3);
    // sb: 12 nodes × 2 = 24 places, one taken by p2 on n07: 23 placed, 7 left.
    assert.equal(first.unassigned.filter((u) => u.taskId.startsWith('b-')).length, 7);
  });
});
