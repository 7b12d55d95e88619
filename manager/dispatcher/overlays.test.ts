// The overlay state each node is sent, from a store holding three nodes, a VIP service, a dnsrr
// service and a published port (one keeping the client's address). Pure: a MemoryStore and no I/O.
import assert from 'node:assert/strict';
import { MemoryStore } from '../store/memory.js';
import type { StoredObject } from '../store/types.js';
import type { TaskObject } from '../orchestrator/model.js';
import { KEEP_SOURCE_LABEL, OverlayPictures } from './overlays.js';

const meta = { Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '' };

function fixture(): MemoryStore {
  const m = new MemoryStore();
  const node = (id: string, addr: string, ingress: string, state = 'ready') => ({ ID: id, ...meta, Spec: { Labels: {}, Role: 'worker', Availability: 'active' }, Description: {}, Status: { State: state, Message: '', Addr: addr }, IngressAddr: ingress });
  const net = (id: string, name: string, ingress = false) => ({ ID: id, ...meta, Spec: { Name: name, Ingress: ingress, Labels: {}, Driver: 'overlay' }, DriverState: { Name: 'overlay', Options: {} } });
  const svc = (id: string, name: string, nets: string[], vips: [string, string][], ports: unknown[] = [], labels: Record<string, string> = {}) => ({
    ID: id,
    ...meta,
    Spec: { Name: name, Labels: labels, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: nets.map((n) => ({ Target: n, Aliases: n === 'front' && name === 'web' ? ['www'] : [] })) } },
    Endpoint: { Ports: ports, VirtualIPs: vips.map(([n, a]) => ({ NetworkID: n, Addr: a })) },
  });
  const task = (id: string, svcId: string, svcName: string, nodeId: string, slot: number, atts: [string, string][], state = 'running', desired = 'running') => ({
    ID: id,
    ...meta,
    ServiceID: svcId,
    ServiceName: svcName,
    NodeID: nodeId,
    Slot: slot,
    DesiredState: desired,
    Status: { State: state },
    Spec: { ContainerSpec: { Image: 'busybox' } },
    NetworksAttachments: atts.map(([n, a]) => ({ Network: { ID: n }, Addresses: [a] })),
  });
  const objects: [string, object][] = [
    ['nodes', node('n1', '192.168.9.1', '10.255.0.2/16')],
    ['nodes', node('n2', '192.168.9.2', '10.255.0.3/16')],
    ['nodes', node('n3', '192.168.9.3', '10.255.0.4/16', 'down')],
    ['networks', net('front', 'front')],
    ['networks', net('ingress', 'ingress', true)],
    ['services', svc('s-web', 'web', ['front'], [['front', '10.0.1.2/24'], ['ingress', '10.255.0.5/16']], [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 81, PublishedPort: 8081, PublishMode: 'ingress' }], { [KEEP_SOURCE_LABEL]: '8081' })],
    ['services', svc('s-rr', 'rr', ['front'], [])],
    ['tasks', task('t1', 's-web', 'web', 'n1', 1, [['front', '10.0.1.3/24'], ['ingress', '10.255.0.6/16']])],
    ['tasks', task('t2', 's-web', 'web', 'n2', 2, [['front', '10.0.1.4/24'], ['ingress', '10.255.0.7/16']])],
    // On a down node: neither a peer nor a backend, though the store still says running.
    ['tasks', task('t3', 's-web', 'web', 'n3', 3, [['front', '10.0.1.5/24'], ['ingress', '10.255.0.8/16']])],
    // Starting: a peer (its node must reach it) but not yet a backend or a name.
    ['tasks', task('t4', 's-rr', 'rr', 'n2', 1, [['front', '10.0.1.6/24']], 'starting')],
    ['tasks', task('t5', 's-rr', 'rr', 'n1', 2, [['front', '10.0.1.7/24']])],
    // Shut down: nowhere.
    ['tasks', task('t6', 's-web', 'web', 'n2', 2, [['front', '10.0.1.9/24']], 'shutdown', 'shutdown')],
  ];
  m.apply({ at: '', actions: objects.map(([table, object]) => ({ op: 'create' as const, table: table as 'nodes', object: object as StoredObject })) }, 1);
  return m;
}

describe('manager/dispatcher overlays (pure)', () => {
  const m = fixture();
  const pictures = new OverlayPictures(m);
  const mine = (nodeId: string) => m.tasksOf({ nodeId }) as unknown as TaskObject[];

  it('gives a node its overlays: remote peers only, names, VIPs over running tasks, dnsrr names', () => {
    const n1 = pictures.forNode('n1', mine('n1'));
    assert.deepEqual([...n1.keys()].sort(), ['front', 'ingress']);
    const front = n1.get('front')!;
    assert.deepEqual(front.peers.map((p) => `${p.ip}@${p.nodeAddr}`), ['10.0.1.4@192.168.9.2', '10.0.1.6@192.168.9.2']);
    assert.deepEqual(front.vips, [{ vip: '10.0.1.2', backends: ['10.0.1.3', '10.0.1.4'] }], 'the task on the down node is out of rotation');
    const names = Object.fromEntries(front.records.map((r) => [r.id, `${r.ip} ${r.names.join(',')}`]));
    assert.equal(names['swarm:svc:s-web'], '10.0.1.2 web,www');
    assert.equal(names['swarm:task:t1'], '10.0.1.3 tasks.web,web.1.t1');
    assert.equal(names['swarm:rr:s-rr:10.0.1.7'], '10.0.1.7 rr');
    assert.equal(names['swarm:task:t4'], undefined, 'a starting task has no name yet');
    assert.equal(names['swarm:task:t6'], undefined);
    assert.equal(names['swarm:task:t3'], undefined, 'a task on a down node has no name');
  });

  it('shares what all nodes share, and gives each its own peers and mesh', () => {
    const n1 = pictures.forNode('n1', mine('n1'));
    const n2 = pictures.forNode('n2', mine('n2'));
    assert.equal(n1.get('front')!.records, n2.get('front')!.records, 'computed once per pass');
    assert.deepEqual(n2.get('front')!.peers.map((p) => p.ip), ['10.0.1.3', '10.0.1.7']);
    const mesh1 = n1.get('ingress')!.ingress!;
    assert.equal(mesh1.nodeAddr, '10.255.0.2/16');
    assert.deepEqual(mesh1.ports, [
      { protocol: 'tcp', port: 8080, targetPort: 80, backends: ['10.255.0.6', '10.255.0.7'] },
      { protocol: 'tcp', port: 8081, targetPort: 81, backends: ['10.255.0.6'], local: true },
    ]);
    assert.deepEqual(n2.get('ingress')!.ingress!.ports[1]!.backends, ['10.255.0.7']);
    // Mesh peers: other live nodes' ingress endpoints plus remote tasks (not the down node's).
    assert.deepEqual(n1.get('ingress')!.peers.map((p) => p.ip), ['10.255.0.3', '10.255.0.7']);
  });

  it('puts a node with no task on the ingress network (the mesh answers everywhere), and nowhere else', () => {
    const fresh = new OverlayPictures(m);
    const n3 = fresh.forNode('n3', []);
    assert.deepEqual([...n3.keys()], ['ingress']);
  });
});
