import assert from 'node:assert/strict';
import type { Task } from '../../api/swarm.js';
import type { NodeObject } from '../objects.js';
import { awaitsPlacement, fromNodeObject, fromTask, occupiesNode } from './adapters.js';

const stamp = { Version: { Index: 3 }, CreatedAt: '2026-01-01T00:00:00Z', UpdatedAt: '2026-01-01T00:00:00Z' };

const storedNode: NodeObject = {
  ID: 'n1',
  ...stamp,
  Spec: { Labels: { zone: 'a' }, Role: 'manager', Availability: 'drain' },
  Description: {
    Hostname: 'h1',
    Platform: { Architecture: 'x86_64', OS: 'linux' },
    Resources: { NanoCPUs: 2e9, MemoryBytes: 4096 },
    Engine: { EngineVersion: '0.1.0', Labels: { disk: 'ssd' } },
  },
  Status: { State: 'ready', Message: '', Addr: '10.0.0.1' },
};

function storedTask(o: Partial<Task> = {}): Task {
  return {
    ID: 't1',
    ...stamp,
    Labels: {},
    ServiceID: 's1',
    Spec: {
      ContainerSpec: { Image: 'busybox' },
      Placement: {
        Constraints: ['node.role==worker'],
        Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }],
        MaxReplicas: 2,
        Platforms: [{ OS: 'linux' }],
      },
      Resources: { Reservations: { NanoCPUs: 5e8 } },
    },
    Status: { Timestamp: stamp.CreatedAt, State: 'pending', Message: 'pending task scheduling' },
    DesiredState: 'running',
    ...o,
  };
}

describe('manager/scheduler adapters', () => {
  it('fromNodeObject takes what the filters read', () => {
    assert.deepEqual(fromNodeObject(storedNode), {
      id: 'n1',
      hostname: 'h1',
      addr: '10.0.0.1',
      role: 'manager',
      availability: 'drain',
      state: 'ready',
      labels: { zone: 'a' },
      engineLabels: { disk: 'ssd' },
      platform: { os: 'linux', arch: 'x86_64' },
      resources: { nanoCPUs: 2e9, memoryBytes: 4096 },
    });
  });

  it('fromTask reads placement and reservations, and host-mode published ports of the endpoint', () => {
    const endpoint = {
      Mode: 'vip' as const,
      Ports: [
        { Protocol: 'tcp' as const, TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' as const },
        { Protocol: 'udp' as const, TargetPort: 53, PublishedPort: 53, PublishMode: 'ingress' as const },
        { Protocol: 'tcp' as const, TargetPort: 81, PublishMode: 'host' as const },
      ],
    };
    assert.deepEqual(fromTask(storedTask(), endpoint), {
      id: 't1',
      serviceId: 's1',
      constraints: ['node.role==worker'],
      spread: ['node.labels.zone'],
      maxReplicas: 2,
      platforms: [{ os: 'linux' }],
      reservations: { nanoCPUs: 5e8, memoryBytes: 0 },
      hostPorts: [{ protocol: 'tcp', port: 8080 }],
    });
    const bare = fromTask(storedTask({ NodeID: 'n1', Spec: { ContainerSpec: { Image: 'busybox' } } }));
    assert.equal(bare.nodeId, 'n1');
    assert.deepEqual([bare.constraints, bare.spread, bare.maxReplicas, bare.hostPorts], [[], [], 0, []]);
  });

  it('tells placed tasks from pending ones and from finished ones', () => {
    const at = (State: Task['Status']['State'], DesiredState: Task['DesiredState'] = 'running', NodeID?: string) =>
      storedTask({ Status: { Timestamp: stamp.CreatedAt, State, Message: '' }, DesiredState, ...(NodeID ? { NodeID } : {}) });
    assert.ok(awaitsPlacement(at('pending')));
    assert.ok(!awaitsPlacement(at('pending', 'shutdown')));
    assert.ok(!awaitsPlacement(at('assigned', 'running', 'n1')));
    assert.ok(occupiesNode(at('assigned', 'running', 'n1')));
    assert.ok(occupiesNode(at('running', 'shutdown', 'n1')));
    assert.ok(!occupiesNode(at('pending', 'running', 'n1')));
    assert.ok(!occupiesNode(at('failed', 'shutdown', 'n1')));
    assert.ok(!occupiesNode(at('complete', 'shutdown', 'n1')));
  });
});
