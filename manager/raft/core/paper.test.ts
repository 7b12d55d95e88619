// The Raft paper, section by section (after etcd's paper_test.go): one test per rule.
// Rafts are driven directly (tick/step) and their outgoing messages inspected.
import assert from 'node:assert/strict';
import type { Entry } from '../types.js';
import { MemoryStorage } from '../memory-storage.js';
import { Rng } from '../sim/rng.js';
import type { Raft } from './raft.js';
import { ConfChangeRejectedError, NotLeaderError } from './errors.js';
import { Net, applyCommitted, entry, ents, msgsOfType, newRaft, storageWith, tickUntilElection } from './test-util.js';

const ids = ['a', 'b', 'c'];

function leaderOf3(): Raft {
  const r = newRaft('a', 10, 1, storageWith(ids));
  r.becomeCandidate();
  r.becomeLeader();
  r.readMessages();
  return r;
}

/** Acks the leader's log from b (and optionally c), as if they had appended everything. */
function ackAll(r: Raft, from: string[]): void {
  for (const f of from) r.step({ type: 'appResp', from: f, to: r.id, term: r.term, index: r.raftLog.lastIndex() });
}

const logTerms = (r: Raft): number[] => {
  const out: number[] = [];
  for (let i = r.raftLog.firstIndex(); i <= r.raftLog.lastIndex(); i++) out.push(r.raftLog.term(i) as number);
  return out;
};

describe('Raft paper §5.1: server states and terms', () => {
  it('starts as a follower in term 0', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    assert.equal(r.role, 'follower');
    assert.equal(r.term, 0);
  });

  for (const role of ['follower', 'candidate', 'leader'] as const) {
    it(`a ${role} seeing a higher term adopts it and becomes follower`, () => {
      const r = newRaft('a', 10, 1, storageWith(ids));
      if (role === 'follower') r.becomeFollower(1, 'b');
      else {
        r.becomeCandidate();
        if (role === 'leader') r.becomeLeader();
      }
      r.step({ type: 'app', from: 'b', to: 'a', term: 2, index: 0, logTerm: 0, entries: [], commit: 0 });
      assert.equal(r.term, 2);
      assert.equal(r.role, 'follower');
      assert.equal(r.lead, 'b');
    });
  }

  it('a vote request with a higher term moves the term but names no leader', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.becomeFollower(1, 'b');
    r.electionElapsed = 10; // out of the leader's lease
    r.step({ type: 'vote', from: 'c', to: 'a', term: 3, index: 0, logTerm: 0 });
    assert.equal(r.term, 3);
    assert.equal(r.lead, '');
    assert.equal(r.vote, 'c');
  });

  it('rejects (ignores) a request with a stale term', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.becomeFollower(2, 'b');
    r.step({ type: 'app', from: 'c', to: 'a', term: 1, index: 0, logTerm: 0, entries: [entry(1, 1)], commit: 1 });
    assert.equal(r.raftLog.lastIndex(), 0);
    assert.equal(r.term, 2);
    assert.equal(r.lead, 'b');
    assert.deepEqual(r.readMessages(), []);
  });

  it('rejects a stale vote request with its current term, so the candidate updates itself (Figure 2)', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.becomeFollower(5, '');
    r.step({ type: 'vote', from: 'c', to: 'a', term: 3, index: 0, logTerm: 0 });
    assert.equal(r.term, 5);
    assert.equal(r.vote, '');
    const out = r.readMessages();
    assert.deepEqual(
      out.map((m) => [m.type, m.to, m.term, m.reject]),
      [['voteResp', 'c', 5, true]],
    );
  });

  it('with check-quorum, answers a stale leader with its newer term so that it steps down', () => {
    const r = newRaft('a', 10, 1, storageWith(ids), { checkQuorum: true });
    r.becomeFollower(2, 'b');
    r.step({ type: 'heartbeat', from: 'c', to: 'a', term: 1, commit: 0 });
    const out = r.readMessages();
    assert.equal(out.length, 1);
    assert.equal(out[0].type, 'appResp');
    assert.equal(out[0].term, 2);
  });
});

describe('Raft paper §5.2: leader election', () => {
  it('the leader broadcasts a heartbeat every heartbeat timeout', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.becomeCandidate();
    r.becomeLeader();
    r.readMessages();
    r.tick();
    const hb = msgsOfType(r.readMessages(), 'heartbeat');
    assert.deepEqual(hb.map((m) => m.to).sort(), ['b', 'c']);
    for (const m of hb) assert.equal(m.term, 1);
  });

  it('a follower that hears nothing for an election timeout becomes candidate, votes for itself and asks everyone', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.becomeFollower(1, 'b');
    tickUntilElection(r);
    assert.equal(r.role, 'candidate');
    assert.equal(r.term, 2);
    assert.equal(r.vote, 'a');
    const votes = msgsOfType(r.readMessages(), 'vote');
    assert.deepEqual(votes.map((m) => m.to).sort(), ['b', 'c']);
    for (const m of votes) assert.equal(m.term, 2);
  });

  it('a candidate that neither wins nor loses starts a new election on timeout', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.becomeCandidate();
    r.readMessages();
    tickUntilElection(r);
    assert.equal(r.role, 'candidate');
    assert.equal(r.term, 2);
    assert.equal(msgsOfType(r.readMessages(), 'vote').length, 2);
  });

  const table: Array<{ size: number; votes: Record<string, boolean>; want: string }> = [
    { size: 1, votes: {}, want: 'leader' },
    { size: 3, votes: { n2: true, n3: true }, want: 'leader' },
    { size: 3, votes: { n2: true }, want: 'leader' },
    { size: 5, votes: { n2: true, n3: true, n4: true, n5: true }, want: 'leader' },
    { size: 5, votes: { n2: true, n3: true }, want: 'leader' },
    { size: 3, votes: {}, want: 'candidate' },
    { size: 5, votes: { n2: true }, want: 'candidate' },
    { size: 5, votes: { n2: false, n3: false }, want: 'candidate' },
    { size: 3, votes: { n2: false, n3: false }, want: 'follower' },
    { size: 5, votes: { n2: false, n3: false, n4: false }, want: 'follower' },
  ];
  for (const t of table) {
    it(`a candidate of ${t.size} with votes ${JSON.stringify(t.votes)} ends ${t.want} (majority wins)`, () => {
      const peers = Array.from({ length: t.size }, (_, i) => `n${i + 1}`);
      const r = newRaft('n1', 10, 1, storageWith(peers));
      r.hup(false);
      for (const [id, granted] of Object.entries(t.votes)) {
        r.step({ type: 'voteResp', from: id, to: 'n1', term: r.term, reject: !granted });
      }
      assert.equal(r.role, t.want);
      assert.equal(r.term, 1);
    });
  }

  const voteTable = [
    { vote: '', from: 'b', reject: false },
    { vote: '', from: 'c', reject: false },
    { vote: 'b', from: 'b', reject: false },
    { vote: 'c', from: 'c', reject: false },
    { vote: 'b', from: 'c', reject: true },
    { vote: 'c', from: 'b', reject: true },
  ];
  for (const t of voteTable) {
    it(`votes at most once per term (voted "${t.vote}", asked by ${t.from}: ${t.reject ? 'reject' : 'grant'})`, () => {
      const r = newRaft('a', 10, 1, storageWith(ids));
      r.term = 1;
      r.vote = t.vote;
      r.step({ type: 'vote', from: t.from, to: 'a', term: 1, index: 0, logTerm: 0 });
      const out = r.readMessages();
      assert.equal(out.length, 1);
      assert.equal(out[0].type, 'voteResp');
      assert.equal(!!out[0].reject, t.reject);
      assert.equal(r.vote, t.reject ? t.vote : t.from);
    });
  }

  it('a candidate hearing from a leader of its own term returns to follower', () => {
    for (const term of [1, 2]) {
      const r = newRaft('a', 10, 1, storageWith(ids));
      r.term = term - 1;
      r.becomeCandidate();
      r.step({ type: 'app', from: 'b', to: 'a', term: r.term, index: 0, logTerm: 0, entries: [], commit: 0 });
      assert.equal(r.role, 'follower');
      assert.equal(r.lead, 'b');
      assert.equal(r.term, term);
    }
  });

  it('a split vote leaves no leader, and the next timeout starts a new term', () => {
    const n = new Net(['a', 'b', 'c', 'd']);
    // a and b campaign at once; c votes for a, d for b: two votes each of four, no majority.
    n.cut('a', 'd');
    n.cut('b', 'c');
    n.get('a').hup(false);
    n.get('b').hup(false);
    n.send();
    assert.equal(n.get('a').role, 'candidate');
    assert.equal(n.get('b').role, 'candidate');
    assert.equal(n.get('a').term, 1);
    n.recover();
    tickUntilElection(n.get('a'));
    n.send();
    assert.equal(n.get('a').term, 2);
    assert.equal(n.get('a').role, 'leader');
  });

  it('election timeouts are randomised over [electionTimeout, 2*electionTimeout)', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 200; seed++) {
      const r = newRaft('a', 10, 1, storageWith(ids), { rand: new Rng(seed) });
      r.becomeFollower(1, 'b');
      let t = 0;
      while (r.role === 'follower') {
        r.tick();
        t++;
      }
      assert.ok(t >= 10 && t < 20, `timeout ${t}`);
      seen.add(t);
    }
    assert.equal(seen.size, 10, 'every timeout value in the range occurs');
  });

  it('randomised timeouts make two followers rarely time out together', () => {
    let conflicts = 0;
    const rounds = 1000;
    const rng = new Rng(42);
    for (let i = 0; i < rounds; i++) {
      const rs = ['a', 'b'].map((id) => {
        const r = newRaft(id, 10, 1, storageWith(ids), { rand: rng.fork() });
        r.becomeFollower(1, 'c');
        return r;
      });
      let fired = 0;
      while (fired === 0) {
        for (const r of rs) r.tick();
        fired = rs.filter((r) => r.role === 'candidate').length;
      }
      if (fired > 1) conflicts++;
    }
    assert.ok(conflicts / rounds < 0.15, `conflict rate ${conflicts / rounds}`);
  });
});

describe('Raft paper §5.3: log replication', () => {
  it('the leader appends a proposal and sends it to every follower with the preceding index and term', () => {
    const r = leaderOf3();
    ackAll(r, ['b', 'c']);
    r.readMessages();
    const li = r.raftLog.lastIndex();
    r.propose([new TextEncoder().encode('x')]);
    assert.equal(r.raftLog.lastIndex(), li + 1);
    const apps = msgsOfType(r.readMessages(), 'app');
    assert.deepEqual(apps.map((m) => m.to).sort(), ['b', 'c']);
    for (const m of apps) {
      assert.equal(m.index, li);
      assert.equal(m.logTerm, 1);
      assert.deepEqual(m.entries?.map((e) => [e.index, e.term]), [[li + 1, 1]]);
    }
  });

  it('the leader commits an entry once a majority stores it, and followers learn the commit index', () => {
    const r = leaderOf3();
    ackAll(r, ['b', 'c']);
    r.readMessages();
    r.propose([new TextEncoder().encode('x')]);
    const li = r.raftLog.lastIndex();
    r.readMessages();
    r.step({ type: 'appResp', from: 'b', to: 'a', term: 1, index: li });
    assert.equal(r.raftLog.committed, li);
    const apps = msgsOfType(r.readMessages(), 'app');
    for (const m of apps) assert.equal(m.commit, li);
  });

  const ackTable = [
    { size: 1, acks: [], commit: true },
    { size: 3, acks: [], commit: false },
    { size: 3, acks: ['n2'], commit: true },
    { size: 3, acks: ['n2', 'n3'], commit: true },
    { size: 5, acks: ['n2'], commit: false },
    { size: 5, acks: ['n2', 'n3'], commit: true },
    { size: 5, acks: ['n2', 'n3', 'n4', 'n5'], commit: true },
  ];
  for (const t of ackTable) {
    it(`commit needs a majority: ${t.size} servers, ${t.acks.length} follower ack(s) → ${t.commit ? '' : 'not '}committed`, () => {
      const peers = Array.from({ length: t.size }, (_, i) => `n${i + 1}`);
      const r = newRaft('n1', 10, 1, storageWith(peers));
      r.becomeCandidate();
      r.becomeLeader();
      const li = r.raftLog.lastIndex();
      for (const id of t.acks) r.step({ type: 'appResp', from: id, to: 'n1', term: 1, index: li });
      assert.equal(r.raftLog.committed === li, t.commit);
    });
  }

  it('committing an entry commits all entries before it (including earlier leaders\' ones)', () => {
    for (const prior of [[], [entry(1, 2)], [entry(1, 1), entry(2, 2)], [entry(1, 1)]]) {
      const s = storageWith(ids);
      s.append(prior);
      const r = newRaft('a', 10, 1, s);
      r.term = 2;
      r.becomeCandidate();
      r.becomeLeader();
      r.propose([new TextEncoder().encode('x')]);
      ackAll(r, ['b']);
      assert.equal(r.raftLog.committed, prior.length + 2);
      assert.equal(r.raftLog.nextCommittedEnts().length, prior.length + 2);
    }
  });

  it('a follower applies entries up to the leader\'s commit index (bounded by what it has)', () => {
    const table = [
      { es: [entry(1, 1, 'x')], commit: 1 },
      { es: [entry(1, 1, 'x'), entry(2, 1, 'y')], commit: 2 },
      { es: [entry(1, 1, 'x'), entry(2, 1, 'y')], commit: 1 },
      { es: [entry(1, 1, 'x')], commit: 5 },
    ];
    for (const t of table) {
      const r = newRaft('a', 10, 1, storageWith(ids));
      r.becomeFollower(1, 'b');
      r.step({ type: 'app', from: 'b', to: 'a', term: 1, index: 0, logTerm: 0, entries: t.es, commit: t.commit });
      assert.equal(r.raftLog.committed, Math.min(t.commit, t.es.length));
    }
  });

  const checkTable: Array<{ index: number; logTerm: number; reject: boolean; hint?: number }> = [
    { index: 0, logTerm: 0, reject: false }, // the empty prefix always matches
    { index: 1, logTerm: 1, reject: false },
    { index: 2, logTerm: 2, reject: false },
    { index: 2, logTerm: 1, reject: true, hint: 1 }, // term mismatch at 2
    { index: 3, logTerm: 3, reject: true, hint: 2 }, // index past our log
  ];
  for (const t of checkTable) {
    it(`consistency check: append after (${t.index}, term ${t.logTerm}) onto [1:t1, 2:t2] is ${t.reject ? 'rejected' : 'accepted'}`, () => {
      const s = storageWith(ids);
      s.append(ents(1, 2));
      const r = newRaft('a', 10, 1, s);
      r.becomeFollower(2, 'b');
      r.step({ type: 'app', from: 'b', to: 'a', term: 2, index: t.index, logTerm: t.logTerm, entries: [], commit: 0 });
      const [m] = r.readMessages();
      assert.equal(m.type, 'appResp');
      assert.equal(!!m.reject, t.reject);
      if (t.reject) assert.equal(m.rejectHint, t.hint);
    });
  }

  const appendTable: Array<{ index: number; logTerm: number; es: Entry[]; want: number[] }> = [
    { index: 2, logTerm: 2, es: [entry(3, 3)], want: [1, 2, 3] },
    { index: 1, logTerm: 1, es: [entry(2, 3), entry(3, 4)], want: [1, 3, 4] }, // conflict at 2 removed
    { index: 0, logTerm: 0, es: [entry(1, 1)], want: [1, 2] }, // already present: nothing removed
    { index: 0, logTerm: 0, es: [entry(1, 3)], want: [3] }, // conflict at 1: everything after goes
  ];
  for (const t of appendTable) {
    it(`a follower removes conflicting entries and appends new ones (after ${t.index}: ${t.es.map((e) => `${e.index}:t${e.term}`).join(',')})`, () => {
      const s = storageWith(ids);
      s.append(ents(1, 2));
      const r = newRaft('a', 10, 1, s);
      r.becomeFollower(2, 'b');
      r.step({ type: 'app', from: 'b', to: 'a', term: 2, index: t.index, logTerm: t.logTerm, entries: t.es, commit: 0 });
      assert.deepEqual(logTerms(r), t.want);
    });
  }

  it('the leader brings each divergent follower log of Figure 7 into line with its own', () => {
    const leaderLog = ents(1, 1, 1, 4, 4, 5, 5, 6, 6, 6);
    const followers = [
      ents(1, 1, 1, 4, 4, 5, 5, 6, 6), // (a) missing one
      ents(1, 1, 1, 4), // (b) missing many
      ents(1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6), // (c) one extra
      ents(1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7), // (d) extra of a later term
      ents(1, 1, 1, 4, 4, 4, 4), // (e) extra of an earlier term
      ents(1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3), // (f) many conflicting
    ];
    for (const fl of followers) {
      const logs = new Map<string, Entry[]>([
        ['a', leaderLog],
        ['b', fl],
        ['c', []],
      ]);
      const n = new Net(['a', 'b', 'c'], {}, logs);
      n.get('a').term = 7; // the leader will campaign in term 8
      n.get('b').term = 7;
      n.get('c').term = 7;
      // c votes for a; b may or may not, depending on its log.
      n.ignore('voteResp');
      n.get('a').campaign('election');
      n.get('a').step({ type: 'voteResp', from: 'c', to: 'a', term: 8 });
      n.recover();
      n.send();
      assert.equal(n.get('a').role, 'leader');
      n.propose('a', '');
      assert.deepEqual(logTerms(n.get('b')), logTerms(n.get('a')));
    }
  });
});

describe('Raft paper §5.4.1: election restriction', () => {
  const table = [
    // [our log terms, candidate last term, candidate last index, grant]
    { log: [1, 1], term: 1, index: 3, grant: true }, // same term, longer
    { log: [1, 1], term: 1, index: 2, grant: true }, // same term, same length
    { log: [1, 1], term: 1, index: 1, grant: false }, // same term, shorter
    { log: [1, 1], term: 2, index: 1, grant: true }, // later term wins though shorter
    { log: [1, 2], term: 1, index: 5, grant: false }, // earlier term loses though longer
    { log: [1, 2], term: 2, index: 2, grant: true },
    { log: [1, 2], term: 2, index: 1, grant: false },
  ];
  for (const t of table) {
    it(`votes only for an up-to-date log: ours ${JSON.stringify(t.log)}, candidate (index ${t.index}, term ${t.term}) → ${t.grant ? 'grant' : 'reject'}`, () => {
      const s = storageWith(ids);
      s.append(ents(...t.log));
      const r = newRaft('a', 10, 1, s);
      r.step({ type: 'vote', from: 'b', to: 'a', term: 3, index: t.index, logTerm: t.term });
      const [m] = r.readMessages();
      assert.equal(m.type, 'voteResp');
      assert.equal(!m.reject, t.grant);
    });
  }

  it('a candidate missing a committed entry cannot win', () => {
    const n = new Net(['a', 'b', 'c']);
    n.elect('a');
    n.isolate('c');
    n.propose('a', 'x'); // committed on a and b only
    n.recover();
    n.get('c').hup(false);
    n.send();
    assert.notEqual(n.get('c').role, 'leader');
    assert.equal(n.get('c').raftLog.committed < n.get('a').raftLog.committed || n.get('a').role !== 'leader', true);
  });
});

describe('Raft paper §5.4.2: committing entries from previous terms', () => {
  const table = [
    // entries of term 1 and 2 already there; the leader is of term 3.
    { acked: 1, wantCommit: 0 },
    { acked: 2, wantCommit: 0 },
    { acked: 3, wantCommit: 3 }, // the current-term no-op carries the earlier ones
  ];
  for (const t of table) {
    it(`a leader does not commit earlier-term entries by counting replicas (follower acked ${t.acked})`, () => {
      const s = storageWith(ids);
      s.append(ents(1, 2));
      const r = newRaft('a', 10, 1, s);
      r.term = 2;
      r.becomeCandidate();
      r.becomeLeader(); // term 3, no-op at index 3
      r.step({ type: 'appResp', from: 'b', to: 'a', term: r.term, index: t.acked });
      assert.equal(r.raftLog.committed, t.wantCommit);
    });
  }

  it('Figure 8: an old-term entry replicated to a majority is not committed until a current-term entry is', () => {
    // S1 led term 2 and put entry 2 (term 2) on S1 and S2. S5 led term 3 with its own entry 2 (lost).
    // S1 leads again in term 4 and replicates its term-2 entry to S3: a majority holds it, but it must
    // not count as committed, since S5 could still win and overwrite it.
    const peers = ['s1', 's2', 's3', 's4', 's5'];
    const s = storageWith(peers);
    s.append([entry(1, 1), entry(2, 2)]);
    const r = newRaft('s1', 10, 1, s);
    r.term = 3;
    r.becomeCandidate();
    r.becomeLeader(); // term 4, no-op at 3
    r.step({ type: 'appResp', from: 's2', to: 's1', term: 4, index: 2 });
    r.step({ type: 'appResp', from: 's3', to: 's1', term: 4, index: 2 });
    assert.equal(r.raftLog.committed, 0);
    r.step({ type: 'appResp', from: 's3', to: 's1', term: 4, index: 3 });
    r.step({ type: 'appResp', from: 's2', to: 's1', term: 4, index: 3 });
    assert.equal(r.raftLog.committed, 3);
  });
});


describe('Raft paper §6: cluster membership changes', () => {
  const data = new TextEncoder().encode('x');

  function singleLeader(): Raft {
    const r = newRaft('a', 10, 1, storageWith(['a']));
    r.hup(false);
    assert.equal(r.role, 'leader');
    applyCommitted(r);
    return r;
  }

  it('an added voter counts in the quorum once its change is applied', () => {
    const r = singleLeader();
    r.proposeConfChange({ type: 'addVoter', node: 'b' });
    applyCommitted(r);
    assert.deepEqual(r.confState().voters, ['a', 'b']);
    r.propose([data]);
    assert.equal(r.raftLog.committed, r.raftLog.lastIndex() - 1, 'a alone no longer commits');
    r.step({ type: 'appResp', from: 'b', to: 'a', term: r.term, index: r.raftLog.lastIndex() });
    assert.equal(r.raftLog.committed, r.raftLog.lastIndex());
  });

  it('removing a voter shrinks the quorum, committing what the remaining voters hold', () => {
    const r = newRaft('a', 10, 1, storageWith(['a', 'b']));
    r.hup(false);
    r.step({ type: 'voteResp', from: 'b', to: 'a', term: 1 });
    ackAll(r, ['b']);
    applyCommitted(r);
    r.proposeConfChange({ type: 'removeVoter', node: 'b' });
    const ccIndex = r.raftLog.lastIndex();
    r.step({ type: 'appResp', from: 'b', to: 'a', term: 1, index: ccIndex });
    r.propose([data]); // b never acknowledges this one
    assert.equal(r.raftLog.committed, ccIndex);
    applyCommitted(r);
    assert.deepEqual(r.confState().voters, ['a']);
    assert.equal(r.raftLog.committed, r.raftLog.lastIndex());
  });

  it('allows one change at a time: another is refused until the first is applied', () => {
    const r = singleLeader();
    r.proposeConfChange({ type: 'addLearner', node: 'b' });
    assert.throws(() => r.proposeConfChange({ type: 'addLearner', node: 'c' }), ConfChangeRejectedError);
    applyCommitted(r);
    r.proposeConfChange({ type: 'addLearner', node: 'c' });
  });

  it('a new leader changes membership only after an entry of its own term is applied', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.hup(false);
    r.step({ type: 'voteResp', from: 'b', to: 'a', term: 1 });
    assert.equal(r.role, 'leader');
    assert.throws(() => r.proposeConfChange({ type: 'addLearner', node: 'd' }), ConfChangeRejectedError);
    ackAll(r, ['b']); // the no-op commits
    assert.throws(() => r.proposeConfChange({ type: 'addLearner', node: 'd' }), ConfChangeRejectedError);
    applyCommitted(r); // ...and is applied
    r.proposeConfChange({ type: 'addLearner', node: 'd' });
  });

  it('refuses a change that would leave no voter, and ignores one if applied anyway', () => {
    const r = singleLeader();
    assert.throws(() => r.proposeConfChange({ type: 'removeVoter', node: 'a' }), ConfChangeRejectedError);
    assert.deepEqual(r.applyConfChange({ type: 'removeVoter', node: 'a' }).voters, ['a']);
  });

  it('refuses two voter changes at once without joint consensus', () => {
    const r = newRaft('a', 10, 1, storageWith(['a']));
    assert.deepEqual(r.applyConfChange({ type: 'addVoter', node: 'b' }).voters, ['a', 'b']);
    // Demoting a to learner and adding c at once must go through joint consensus.
    const cs = r.applyConfChange({ type: 'addVoter', node: 'c', joint: [{ type: 'removeVoter', node: 'b' }] });
    assert.deepEqual(cs.voters, ['a', 'c']);
    assert.deepEqual(cs.votersOutgoing, ['a', 'b']);
  });

  it('learners receive entries but neither vote, campaign nor count towards commit', () => {
    const r = newRaft('a', 10, 1, storageWith(['a', 'b'], ['c']));
    r.hup(false);
    const votes = msgsOfType(r.readMessages(), 'vote');
    assert.deepEqual(votes.map((m) => m.to), ['b']);
    r.step({ type: 'voteResp', from: 'b', to: 'a', term: 1 });
    const apps = msgsOfType(r.readMessages(), 'app');
    assert.deepEqual(apps.map((m) => m.to).sort(), ['b', 'c']);
    r.step({ type: 'appResp', from: 'c', to: 'a', term: 1, index: r.raftLog.lastIndex() });
    assert.equal(r.raftLog.committed, 0);

    const learner = newRaft('c', 10, 1, storageWith(['a', 'b'], ['c']));
    for (let i = 0; i < 100; i++) learner.tick();
    assert.equal(learner.role, 'follower');
    assert.deepEqual(learner.readMessages(), []);
  });

  it('a learner promoted to voter may campaign', () => {
    const r = newRaft('c', 10, 1, storageWith(['a', 'b'], ['c']));
    r.applyConfChange({ type: 'addVoter', node: 'c' });
    tickUntilElection(r);
    assert.equal(r.role, 'candidate');
  });

  it('joint consensus: entries commit only with majorities of both C_old and C_new, and the leader then leaves C_old,new by itself', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.hup(false);
    r.step({ type: 'voteResp', from: 'b', to: 'a', term: 1 });
    ackAll(r, ['b', 'c']);
    applyCommitted(r);
    // C_old = {a,b,c} → C_new = {a,d,e}
    r.proposeConfChange({ type: 'addVoter', node: 'd', joint: [{ type: 'addVoter', node: 'e' }, { type: 'removeVoter', node: 'b' }, { type: 'removeVoter', node: 'c' }] });
    ackAll(r, ['b']);
    applyCommitted(r);
    assert.deepEqual(r.confState().votersOutgoing, ['a', 'b', 'c']);
    assert.deepEqual(r.confState().voters, ['a', 'd', 'e']);
    // The leader proposed leaving the joint config on its own.
    const leave = r.raftLog.lastIndex();
    assert.equal(r.raftLog.term(leave), r.term);
    r.propose([data]);
    const li = r.raftLog.lastIndex();
    ackAll(r, ['b', 'c']); // C_old majority only
    assert.ok(r.raftLog.committed < leave);
    ackAll(r, ['d']); // now a,d of C_new as well
    assert.equal(r.raftLog.committed, li);
    applyCommitted(r);
    const cs = r.confState();
    assert.deepEqual(cs.voters, ['a', 'd', 'e']);
    assert.equal(cs.votersOutgoing, undefined);
  });

  it('joint consensus: elections need both majorities too', () => {
    const r = newRaft('a', 10, 1, storageWith(['a', 'b', 'c']));
    r.applyConfChange({ type: 'addVoter', node: 'd', joint: [{ type: 'addVoter', node: 'e' }, { type: 'removeVoter', node: 'b' }, { type: 'removeVoter', node: 'c' }] });
    r.hup(false);
    assert.deepEqual(msgsOfType(r.readMessages(), 'vote').map((m) => m.to).sort(), ['b', 'c', 'd', 'e']);
    r.step({ type: 'voteResp', from: 'd', to: 'a', term: 1 });
    r.step({ type: 'voteResp', from: 'e', to: 'a', term: 1 });
    assert.equal(r.role, 'candidate', 'C_new majority alone is not enough');
    r.step({ type: 'voteResp', from: 'b', to: 'a', term: 1 });
    assert.equal(r.role, 'leader');
  });

  it('a removed leader takes no more proposals, hands over to an up-to-date voter, and steps down', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.hup(false);
    r.step({ type: 'voteResp', from: 'b', to: 'a', term: 1 });
    ackAll(r, ['b', 'c']);
    applyCommitted(r);
    r.proposeConfChange({ type: 'removeVoter', node: 'a' });
    assert.throws(() => r.propose([data]), NotLeaderError);
    ackAll(r, ['b']);
    r.readMessages();
    applyCommitted(r);
    const out = r.readMessages();
    assert.deepEqual(msgsOfType(out, 'timeoutNow').map((m) => m.to), ['b']);
    assert.equal(r.role, 'follower');
  });
});

describe('Raft paper §7: log compaction and InstallSnapshot', () => {
  const snapConf = { voters: ids, learners: [] };

  function snapshotStorage(): MemoryStorage {
    const s = storageWith(ids);
    s.append(ents(1, 1, 2, 2, 2));
    s.createSnapshot(4, snapConf, new TextEncoder().encode('state@4'));
    s.compact(4);
    s.setHardState({ term: 2, vote: '', commit: 4 });
    return s;
  }

  it('a node restarts from a compacted log: commit at least the snapshot, terms known from the snapshot on', () => {
    const r = newRaft('a', 10, 1, snapshotStorage());
    assert.equal(r.raftLog.firstIndex(), 5);
    assert.equal(r.raftLog.committed, 4);
    assert.equal(r.raftLog.term(4), 2);
    assert.equal(r.raftLog.term(3), undefined);
    assert.equal(r.raftLog.lastIndex(), 5);
  });

  it('a follower installs a newer snapshot, replacing its log, and answers with the snapshot index', () => {
    const r = newRaft('a', 10, 1, storageWith(ids));
    r.becomeFollower(2, 'b');
    const snap = { meta: { index: 11, term: 2, conf: snapConf }, data: new Uint8Array([1]) };
    r.step({ type: 'snap', from: 'b', to: 'a', term: 2, snapshot: snap });
    assert.equal(r.raftLog.committed, 11);
    assert.equal(r.raftLog.lastIndex(), 11);
    assert.equal(r.raftLog.term(11), 2);
    assert.equal(r.raftLog.unstable.snapshot, snap);
    const [m] = r.readMessages();
    assert.equal(m.type, 'appResp');
    assert.equal(m.index, 11);
  });

  it('a snapshot at or below the commit index is ignored', () => {
    const r = newRaft('a', 10, 1, snapshotStorage());
    r.becomeFollower(2, 'b');
    r.step({ type: 'snap', from: 'b', to: 'a', term: 2, snapshot: { meta: { index: 3, term: 1, conf: snapConf }, data: new Uint8Array() } });
    assert.equal(r.raftLog.unstable.snapshot, undefined);
    assert.equal(r.readMessages()[0].index, 4);
  });

  it('a snapshot whose last entry the follower already has only advances the commit index', () => {
    const s = storageWith(ids);
    s.append(ents(1, 1, 2, 2, 2));
    const r = newRaft('a', 10, 1, s);
    r.becomeFollower(2, 'b');
    r.step({ type: 'snap', from: 'b', to: 'a', term: 2, snapshot: { meta: { index: 4, term: 2, conf: snapConf }, data: new Uint8Array() } });
    assert.equal(r.raftLog.unstable.snapshot, undefined);
    assert.equal(r.raftLog.committed, 4);
    assert.equal(r.raftLog.lastIndex(), 5, 'entries after the snapshot stay');
  });

  it('the leader sends InstallSnapshot when the entries a follower needs were compacted, and waits for it', () => {
    const r = newRaft('a', 10, 1, snapshotStorage());
    r.becomeCandidate();
    r.becomeLeader();
    r.readMessages();
    // b rejects the probe: it has nothing.
    r.step({ type: 'appResp', from: 'b', to: 'a', term: 3, index: r.raftLog.lastIndex() - 1, reject: true, rejectHint: 0 });
    const [m] = r.readMessages();
    assert.equal(m.type, 'snap');
    assert.equal(m.snapshot?.meta.index, 4);
    const pr = r.trk.progress.get('b');
    assert.equal(pr?.state, 'snapshot');
    assert.equal(pr?.isPaused(), true);
    r.propose([new Uint8Array([1])]);
    assert.deepEqual(msgsOfType(r.readMessages(), 'app').map((x) => x.to), ['c'], 'nothing more for b meanwhile');
    // b installed it: replication resumes from there.
    r.step({ type: 'appResp', from: 'b', to: 'a', term: 3, index: 4 });
    assert.equal(pr?.state, 'replicate');
    assert.equal(pr?.match, 4);
    assert.equal(msgsOfType(r.readMessages(), 'app')[0]?.index, 4);
  });

  it('a failed snapshot sends the follower back to probing after the next heartbeat answer', () => {
    const r = newRaft('a', 10, 1, snapshotStorage());
    r.becomeCandidate();
    r.becomeLeader();
    r.step({ type: 'appResp', from: 'b', to: 'a', term: 3, index: r.raftLog.lastIndex() - 1, reject: true, rejectHint: 0 });
    r.readMessages();
    r.reportSnapshot('b', false);
    const pr = r.trk.progress.get('b');
    assert.equal(pr?.state, 'probe');
    assert.equal(pr?.isPaused(), true);
    r.step({ type: 'heartbeatResp', from: 'b', to: 'a', term: 3 });
    assert.equal(msgsOfType(r.readMessages(), 'snap').length, 1, 'retried');
  });

  it('a snapshot that is never answered is retried after an election timeout', () => {
    const r = newRaft('a', 10, 1, snapshotStorage());
    r.becomeCandidate();
    r.becomeLeader();
    r.step({ type: 'appResp', from: 'b', to: 'a', term: 3, index: r.raftLog.lastIndex() - 1, reject: true, rejectHint: 0 });
    r.readMessages();
    for (let i = 0; i < 2 * r.electionTimeout + 2; i++) {
      r.step({ type: 'heartbeatResp', from: 'b', to: 'a', term: 3 });
      r.step({ type: 'heartbeatResp', from: 'c', to: 'a', term: 3 });
      r.tick();
    }
    // Probing again from the snapshot index: b either has it (and accepts) or rejects and gets it anew.
    const probes = r.readMessages().filter((m) => m.to === 'b' && m.type === 'app');
    assert.ok(probes.length >= 1);
    assert.equal(probes[0].index, 4);
  });
});
