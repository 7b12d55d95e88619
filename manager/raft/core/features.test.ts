// Beyond the paper: pre-vote, check-quorum, ReadIndex, leadership transfer, flow control and
// fast back-off (Ongaro's thesis and etcd's raft).
import assert from 'node:assert/strict';
import { NotLeaderError } from './errors.js';
import { Net, ents, entry, msgsOfType, newRaft, storageWith, tickUntilElection } from './test-util.js';
import type { Entry } from '../types.js';

const ids = ['a', 'b', 'c'];
const data = new TextEncoder().encode('x');

describe('pre-vote (thesis §9.6)', () => {
  it('a partitioned node does not raise its term, so rejoining does not depose the leader', () => {
    const n = new Net(ids, { preVote: true });
    n.elect('a');
    const term = n.get('a').term;
    n.isolate('c');
    for (let i = 0; i < 5; i++) {
      tickUntilElection(n.get('c'));
      n.send();
    }
    assert.equal(n.get('c').term, term, 'pre-candidate keeps its term');
    assert.equal(n.get('c').role, 'preCandidate');
    n.recover();
    n.propose('a', 'x');
    assert.equal(n.get('a').role, 'leader');
    assert.equal(n.get('a').term, term);
    assert.equal(n.get('c').role, 'follower');
  });

  it('without pre-vote the same partition does depose the leader (the problem pre-vote solves)', () => {
    const n = new Net(ids, { preVote: false });
    n.elect('a');
    const term = n.get('a').term;
    n.isolate('c');
    for (let i = 0; i < 3; i++) tickUntilElection(n.get('c'));
    n.send();
    assert.ok(n.get('c').term > term);
    n.recover();
    tickUntilElection(n.get('c'));
    n.send();
    assert.ok(n.get('a').term > term, 'the leader was forced into a new term');
  });

  it('a pre-vote is granted for a future term without changing the voter\'s term or vote', () => {
    const r = newRaft('a', 10, 1, storageWith(ids), { preVote: true });
    r.becomeFollower(2, '');
    r.step({ type: 'preVote', from: 'b', to: 'a', term: 3, index: 0, logTerm: 0 });
    const [m] = r.readMessages();
    assert.equal(m.type, 'preVoteResp');
    assert.equal(m.reject, false);
    assert.equal(m.term, 3);
    assert.equal(r.term, 2);
    assert.equal(r.vote, '');
  });

  it('a pre-candidate with a stale log is refused and does not start a real election', () => {
    const s = storageWith(ids);
    s.append(ents(1, 1));
    const b = newRaft('b', 10, 1, s, { preVote: true });
    b.becomeFollower(1, '');
    const c = newRaft('c', 10, 1, storageWith(ids), { preVote: true });
    c.becomeFollower(1, '');
    tickUntilElection(c);
    const pv = msgsOfType(c.readMessages(), 'preVote').find((m) => m.to === 'b');
    assert.ok(pv);
    b.step(pv);
    const [resp] = b.readMessages();
    assert.equal(resp.reject, true);
    c.step(resp);
    c.step({ type: 'preVoteResp', from: 'a', to: 'c', term: 1, reject: true });
    assert.equal(c.role, 'follower');
    assert.equal(c.term, 1);
  });

  it('a won pre-election leads to a real one in the next term', () => {
    const n = new Net(ids, { preVote: true });
    n.elect('a');
    assert.equal(n.get('a').role, 'leader');
    assert.equal(n.get('a').term, 1);
  });
});

describe('check-quorum (thesis §6.2)', () => {
  it('a leader that hears from no quorum for an election timeout steps down', () => {
    const n = new Net(ids, { checkQuorum: true });
    n.elect('a');
    n.isolate('a');
    for (let i = 0; i < 2 * n.get('a').electionTimeout; i++) {
      n.get('a').tick();
      n.send();
    }
    assert.equal(n.get('a').role, 'follower');
  });

  it('a leader that keeps hearing from a quorum stays', () => {
    const n = new Net(ids, { checkQuorum: true });
    n.elect('a');
    n.isolate('c');
    for (let i = 0; i < 5 * n.get('a').electionTimeout; i++) {
      n.get('a').tick();
      n.send();
    }
    assert.equal(n.get('a').role, 'leader');
  });

  it('followers within the leader lease ignore vote requests of higher terms', () => {
    const r = newRaft('a', 10, 1, storageWith(ids), { checkQuorum: true });
    r.becomeFollower(1, 'b');
    r.step({ type: 'vote', from: 'c', to: 'a', term: 2, index: 5, logTerm: 1 });
    assert.equal(r.term, 1);
    assert.deepEqual(r.readMessages(), []);
    for (let i = 0; i < 10; i++) r.tick();
    r.step({ type: 'vote', from: 'c', to: 'a', term: 2, index: 5, logTerm: 1 });
    assert.equal(r.term, 2, 'after the lease, it votes');
  });
});

describe('ReadIndex (thesis §6.4)', () => {
  it('the leader answers a read with its commit index once a quorum acknowledges a heartbeat', () => {
    const n = new Net(ids);
    n.elect('a');
    n.propose('a', 'x');
    const a = n.get('a');
    n.isolate('b');
    n.isolate('c');
    a.readIndex('r1');
    n.send();
    assert.deepEqual(a.readStates, [], 'no quorum, no answer');
    n.recover();
    a.readIndex('r2');
    n.send();
    assert.deepEqual(a.readStates, [
      { index: a.raftLog.committed, context: 'r1' },
      { index: a.raftLog.committed, context: 'r2' },
    ]);
  });

  it('a follower\'s read is forwarded to the leader and answered with the leader\'s commit index', () => {
    const n = new Net(ids);
    n.elect('a');
    n.propose('a', 'x');
    const b = n.get('b');
    b.readIndex('rb');
    n.send();
    assert.deepEqual(b.readStates, [{ index: n.get('a').raftLog.committed, context: 'rb' }]);
  });

  it('a new leader holds reads until an entry of its term commits', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.hup(false);
    r.step({ type: 'voteResp', from: 'b', to: 'a', term: 1 });
    r.readMessages();
    r.readIndex('early');
    assert.equal(msgsOfType(r.readMessages(), 'heartbeat').length, 0);
    r.step({ type: 'appResp', from: 'b', to: 'a', term: 1, index: r.raftLog.lastIndex() });
    const hbs = msgsOfType(r.readMessages(), 'heartbeat');
    assert.equal(hbs.length, 2);
    assert.equal(hbs[0].context, 'early');
    r.step({ type: 'heartbeatResp', from: 'c', to: 'a', term: 1, context: 'early' });
    assert.deepEqual(r.readStates, [{ index: 1, context: 'early' }]);
  });

  it('a single voter answers at once', () => {
    const r = newRaft('a', 10, 1, storageWith(['a']));
    r.hup(false);
    r.readIndex('solo');
    assert.deepEqual(r.readStates, [{ index: 1, context: 'solo' }]);
  });

  it('a follower without a leader drops the read (the caller retries)', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.readIndex('lost');
    assert.deepEqual(r.readMessages(), []);
    assert.deepEqual(r.readStates, []);
  });
});

describe('leadership transfer (thesis §3.10)', () => {
  it('to an up-to-date follower: TimeoutNow makes it win at once', () => {
    const n = new Net(ids, { checkQuorum: true });
    n.elect('a');
    n.propose('a', 'x');
    n.get('a').transferLeader('b');
    n.send();
    assert.equal(n.get('b').role, 'leader');
    assert.equal(n.get('a').role, 'follower');
    assert.equal(n.get('a').lead, 'b');
  });

  it('to a lagging follower: it is caught up first', () => {
    const n = new Net(ids);
    n.elect('a');
    n.isolate('c');
    n.propose('a', 'x');
    n.propose('a', 'y');
    n.recover();
    n.get('a').transferLeader('c');
    assert.equal(n.get('a').role, 'leader');
    n.send();
    assert.equal(n.get('c').role, 'leader');
    assert.equal(n.get('c').raftLog.lastIndex() >= 3, true);
  });

  it('rejects proposals while transferring and gives up after an election timeout', () => {
    const n = new Net(ids);
    n.elect('a');
    n.isolate('c');
    const a = n.get('a');
    a.transferLeader('c');
    n.send();
    assert.throws(() => a.propose([data]), NotLeaderError);
    for (let i = 0; i < a.electionTimeout; i++) a.tick();
    assert.equal(a.leadTransferee, '');
    a.propose([data]);
  });

  it('ignores a transfer to itself or to a learner', () => {
    const r = newRaft('a', 10, 1, storageWith(['a', 'b'], ['c']));
    r.hup(false);
    r.step({ type: 'voteResp', from: 'b', to: 'a', term: 1 });
    r.transferLeader('a');
    r.transferLeader('c');
    assert.equal(r.leadTransferee, '');
  });

  it('a follower cannot start a transfer', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    assert.throws(() => r.transferLeader('b'), NotLeaderError);
  });
});

describe('flow control', () => {
  function replicatingLeader(maxInflight: number) {
    const r = newRaft('a', 10, 1, storageWith(ids), { maxInflightMsgs: maxInflight });
    r.hup(false);
    r.step({ type: 'voteResp', from: 'b', to: 'a', term: 1 });
    r.step({ type: 'appResp', from: 'b', to: 'a', term: 1, index: 1 });
    r.readMessages();
    return r;
  }

  it('in replicate state a follower gets at most maxInflightMsgs unacknowledged appends', () => {
    const r = replicatingLeader(3);
    assert.equal(r.trk.progress.get('b')?.state, 'replicate');
    for (let i = 0; i < 10; i++) {
      r.propose([data]);
      r.flush();
    }
    assert.equal(r.readMessages().filter((m) => m.to === 'b' && m.type === 'app').length, 3);
    // An ack of the first two frees two slots; the rest goes out batched.
    r.step({ type: 'appResp', from: 'b', to: 'a', term: 1, index: 3 });
    const more = r.readMessages().filter((m) => m.to === 'b' && m.type === 'app');
    assert.ok(more.length >= 1 && more.length <= 2);
    assert.equal(Math.max(...more.flatMap((m) => (m.entries ?? []).map((e) => e.index))), 11);
  });

  it('a heartbeat answer frees one slot of a full window (appends may have been lost)', () => {
    const r = replicatingLeader(1);
    r.propose([data]);
    r.flush();
    r.propose([data]);
    r.flush();
    assert.equal(r.readMessages().filter((m) => m.to === 'b' && m.type === 'app').length, 1);
    r.step({ type: 'heartbeatResp', from: 'b', to: 'a', term: 1 });
    assert.equal(r.readMessages().filter((m) => m.to === 'b' && m.type === 'app').length, 1);
  });

  it('in probe state one append at a time is outstanding', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.hup(false);
    r.step({ type: 'voteResp', from: 'b', to: 'a', term: 1 });
    assert.equal(r.trk.progress.get('c')?.state, 'probe');
    r.readMessages();
    for (let i = 0; i < 5; i++) {
      r.propose([data]);
      r.flush();
    }
    assert.equal(r.readMessages().filter((m) => m.to === 'c' && m.type === 'app').length, 0, 'the probe is still unanswered');
  });

  it('an append carries at most maxSizePerMsg bytes (at least one entry)', () => {
    const r = newRaft('a', 10, 1, storageWith(ids), { maxSizePerMsg: 100 });
    r.hup(false);
    r.step({ type: 'voteResp', from: 'b', to: 'a', term: 1 });
    r.step({ type: 'appResp', from: 'b', to: 'a', term: 1, index: 1 });
    r.readMessages();
    r.propose(Array.from({ length: 10 }, () => new Uint8Array(40)));
    const apps = r.readMessages().filter((m) => m.to === 'b' && m.type === 'app');
    assert.ok(apps.length > 1);
    for (const m of apps) assert.ok((m.entries?.length ?? 0) <= 1 || (m.entries?.length ?? 0) * 64 <= 100 + 64);
    assert.equal(apps.reduce((n, m) => n + (m.entries?.length ?? 0), 0), 10);
  });

  it('proposals between two Readies go to each follower in one append', () => {
    const r = replicatingLeader(256);
    for (let i = 0; i < 50; i++) r.propose([data]);
    assert.equal(r.readMessages().filter((m) => m.to === 'b' && m.type === 'app').length, 1);
  });
});

describe('fast log back-off (thesis §5.3 optimisation)', () => {
  it('a follower\'s rejection carries a hint that skips a whole conflicting term', () => {
    // Leader: 1,1,1,4,4,4,4,4,4 (9); follower: 1,1,1,2,2,2,2,2,2,2,2 (11) — etcd's example.
    const leader: Entry[] = ents(1, 1, 1, 4, 4, 4, 4, 4, 4);
    const follower: Entry[] = ents(1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2);
    const logs = new Map([
      ['a', leader],
      ['b', follower],
      ['c', leader],
    ]);
    const n = new Net(ids, {}, logs);
    for (const id of ids) n.get(id).term = 4;
    let rejections = 0;
    const a = n.get('a');
    a.campaign('election');
    a.step({ type: 'voteResp', from: 'c', to: 'a', term: 5 });
    // Deliver by hand, counting b's rejections.
    let queue = a.readMessages();
    while (queue.length > 0) {
      const next = [];
      for (const m of queue) {
        const r = n.get(m.to);
        if (m.type === 'appResp' && m.reject) rejections++;
        r.step(m);
        next.push(...r.readMessages());
      }
      queue = next;
    }
    assert.deepEqual(
      Array.from({ length: n.get('b').raftLog.lastIndex() }, (_, i) => n.get('b').raftLog.term(i + 1)),
      [1, 1, 1, 4, 4, 4, 4, 4, 4, 5],
    );
    assert.ok(rejections <= 2, `took ${rejections} rejections`);
  });

  it('findConflictByTerm returns the last index whose term is at most the given one', () => {
    const s = storageWith(ids);
    s.append([entry(1, 1), entry(2, 1), entry(3, 3), entry(4, 3), entry(5, 5)]);
    const r = newRaft('a', 10, 1, s);
    assert.deepEqual(r.raftLog.findConflictByTerm(5, 4), [4, 3]);
    assert.deepEqual(r.raftLog.findConflictByTerm(5, 2), [2, 1]);
    assert.deepEqual(r.raftLog.findConflictByTerm(5, 0), [0, 0]);
    assert.deepEqual(r.raftLog.findConflictByTerm(3, 3), [3, 3]);
  });
});
