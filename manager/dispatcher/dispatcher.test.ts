import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { ReplicatedStore, StoreStateMachine } from '../store/replicated.js';
import type { ApplyResult } from '../store/types.js';
import type { NodeObject } from '../objects.js';
import { Dispatcher } from './dispatcher.js';

/** A store whose "raft" applies each proposal at once: the dispatcher's logic, deterministically. */
function localStore(): ReplicatedStore {
  const sm = new StoreStateMachine();
  let index = 0;
  const raft = {
    propose: async (payload: Uint8Array): Promise<ApplyResult> => sm.apply(payload, { index: ++index }),
    readBarrier: async () => undefined,
  };
  return new ReplicatedStore(raft, sm);
}

/** The ws side the dispatcher uses: messages in, sends and closes recorded. */
class FakeWs extends EventEmitter {
  sent: unknown[] = [];
  closed: [number, string] | undefined;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code: number, reason: string): void {
    this.closed = [code, reason];
    this.emit('close');
  }
  say(m: unknown): void {
    this.emit('message', Buffer.from(JSON.stringify(m)));
  }
}

const description = { Hostname: 'h1', Platform: { Architecture: 'x86_64', OS: 'linux' }, Resources: { NanoCPUs: 2e9, MemoryBytes: 1 }, Engine: { EngineVersion: '0.1.0', Labels: {} } };

describe('manager/dispatcher', () => {
  it('marks a node ready on register, keeps it ready while it beats, down after 3 silent periods', async () => {
    const store = localStore();
    await store.update((tx) => tx.create('nodes', { ID: 'n1', Spec: { Role: 'worker', Availability: 'active', Labels: {} }, Description: description, Status: { State: 'unknown', Message: '', Addr: '' } }));
    let now = 1_000_000;
    const d = new Dispatcher({ store, periodMs: () => 1000, box: { seal: (_a: string, p: Buffer) => p.toString('base64'), open: (_a: string, x: string) => Buffer.from(x, 'base64') },
      managers: () => [{ nodeId: 'm1', addr: '10.0.0.1:2377' }], log: () => undefined, now: () => now });
    d.start();
    const ws = new FakeWs();
    d.accept(ws as unknown as WebSocket, 'n1', '10.0.0.2');
    ws.say({ type: 'register', description, addr: '10.0.0.2:2377' });
    const session = ws.sent[0] as { type: string; sessionId: string; heartbeatPeriodMs: number; managers: unknown[] };
    assert.equal(session.type, 'session');
    assert.equal(session.heartbeatPeriodMs, 1000);
    assert.deepEqual(session.managers, [{ nodeId: 'm1', addr: '10.0.0.1:2377' }]);
    for (let i = 0; i < 20 && (store.view.get('nodes', 'n1') as NodeObject).Status.State !== 'ready'; i++) await new Promise((r) => setImmediate(r));
    const ready = store.view.get('nodes', 'n1') as NodeObject;
    assert.equal(ready.Status.State, 'ready');
    assert.equal(ready.Status.Addr, '10.0.0.2');
    const sweep = (): Promise<void> => (d as unknown as { sweep(): Promise<void> }).sweep();
    // Beats every period: stays ready.
    for (let i = 0; i < 5; i++) {
      now += 1000;
      ws.say({ type: 'heartbeat', sessionId: session.sessionId });
      await sweep();
    }
    assert.equal((store.view.get('nodes', 'n1') as NodeObject).Status.State, 'ready');
    // Silent for 3 periods: not yet; past them: down, with the reason.
    now += 3000;
    await sweep();
    assert.equal((store.view.get('nodes', 'n1') as NodeObject).Status.State, 'ready');
    now += 1;
    await sweep();
    const down = store.view.get('nodes', 'n1') as NodeObject;
    assert.equal(down.Status.State, 'down');
    assert.equal(down.Status.Message, 'heartbeat failure');
    // A heartbeat for another session is refused.
    ws.say({ type: 'heartbeat', sessionId: 'forged' });
    assert.deepEqual(ws.closed, [4000, 'unknown session: register first']);
    d.stop('test over', '');
  });

  it('a follower-side dispatcher (not started) sends sessions to the leader', () => {
    const d = new Dispatcher({ store: localStore(), periodMs: () => 1000, box: { seal: (_a: string, p: Buffer) => p.toString('base64'), open: (_a: string, x: string) => Buffer.from(x, 'base64') },
      managers: () => [], log: () => undefined });
    const ws = new FakeWs();
    d.accept(ws as unknown as WebSocket, 'n1', '10.0.0.2');
    assert.deepEqual(ws.closed, [4001, 'not the leader']);
  });
});
