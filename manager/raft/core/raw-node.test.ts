// The RawNode contract: Ready batches (persist → send → apply → advance), bootstrap and restart.
import assert from 'node:assert/strict';
import { MemoryStorage } from '../memory-storage.js';
import type { Ready } from '../types.js';
import { Rng } from '../sim/rng.js';
import { ConfChangeRejectedError, NotLeaderError, RawNode } from './raw-node.js';
import { decodeConfChange } from './util.js';

const cfg = (id: string) => ({ id, electionTick: 10, heartbeatTick: 1, rand: new Rng(1) });

/** Handles one Ready the way the application must. */
function handle(rn: RawNode, s: MemoryStorage): Ready {
  const rd = rn.ready();
  if (rd.snapshot) s.applySnapshot(rd.snapshot);
  s.append(rd.entries);
  if (rd.hardState) s.setHardState(rd.hardState);
  for (const e of rd.committedEntries) if (e.type === 'conf') rn.applyConfChange(decodeConfChange(e.data));
  rn.advance(rd);
  return rd;
}

describe('RawNode', () => {
  it('a founding member writes its founding config as committed term-1 conf entries', () => {
    const s = new MemoryStorage({ voters: ['b', 'a', 'c'], learners: [] });
    const rn = new RawNode(cfg('a'), s);
    const rd = handle(rn, s);
    assert.deepEqual(rd.hardState, { term: 1, vote: '', commit: 3 });
    assert.deepEqual(rd.entries.map((e) => [e.index, e.term, e.type]), [
      [1, 1, 'conf'],
      [2, 1, 'conf'],
      [3, 1, 'conf'],
    ]);
    assert.deepEqual(rd.committedEntries.map((e) => decodeConfChange(e.data).node), ['a', 'b', 'c']);
    assert.deepEqual(rn.status().conf.voters, ['a', 'b', 'c']);
    assert.equal(rn.status().applied, 3);
  });

  it('a single node campaigns, commits its no-op and a proposal through Ready batches', () => {
    const s = new MemoryStorage({ voters: ['a'], learners: [] });
    const rn = new RawNode(cfg('a'), s);
    handle(rn, s);
    rn.campaign();
    let rd = handle(rn, s);
    assert.deepEqual(rd.softState, { lead: 'a', role: 'leader' });
    assert.equal(rd.hardState?.vote, 'a');
    rn.propose(new TextEncoder().encode('hello'));
    rd = handle(rn, s);
    assert.equal(rd.entries.length, 1);
    assert.equal(new TextDecoder().decode(rd.committedEntries[0].data), 'hello');
    assert.equal(s.lastIndex(), 3); // bootstrap entry, no-op, proposal
    assert.equal(rn.hasReady(), false);
  });

  it('hands out one Ready at a time', () => {
    const s = new MemoryStorage({ voters: ['a'], learners: [] });
    const rn = new RawNode(cfg('a'), s);
    const rd = rn.ready();
    assert.equal(rn.hasReady(), false);
    assert.throws(() => rn.ready());
    s.append(rd.entries);
    rn.advance(rd);
    assert.throws(() => rn.advance(rd));
  });

  it('throws NotLeaderError on a follower and ConfChangeRejectedError while a change is pending', () => {
    const s = new MemoryStorage({ voters: ['a', 'b', 'c'], learners: [] });
    const rn = new RawNode(cfg('a'), s);
    assert.throws(() => rn.propose(new Uint8Array()), NotLeaderError);
    const solo = new MemoryStorage({ voters: ['a'], learners: [] });
    const leader = new RawNode(cfg('a'), solo);
    handle(leader, solo);
    leader.campaign();
    assert.throws(() => leader.proposeConfChange({ type: 'addLearner', node: 'x' }), ConfChangeRejectedError);
    handle(leader, solo);
    leader.proposeConfChange({ type: 'addLearner', node: 'x' });
    assert.throws(() => leader.proposeConfChange({ type: 'addLearner', node: 'y' }), ConfChangeRejectedError);
  });

  it('restarts from storage with its term, vote, log and applied index', () => {
    const s = new MemoryStorage({ voters: ['a'], learners: [] });
    const rn = new RawNode(cfg('a'), s);
    handle(rn, s);
    rn.campaign();
    handle(rn, s);
    rn.propose(new TextEncoder().encode('x'));
    handle(rn, s);
    const before = rn.status();
    const again = new RawNode({ ...cfg('a'), applied: before.applied }, s);
    const st = again.status();
    assert.equal(st.term, before.term);
    assert.equal(st.commit, before.commit);
    assert.equal(st.applied, before.applied);
    assert.equal(st.role, 'follower');
    assert.equal(again.raft.vote, 'a');
    assert.equal(again.hasReady(), false, 'nothing to re-apply');
  });

  it('does not re-bootstrap a node that has state', () => {
    const s = new MemoryStorage({ voters: ['a', 'b', 'c'], learners: [] });
    handle(new RawNode(cfg('a'), s), s);
    const rn = new RawNode(cfg('a'), s);
    assert.equal(rn.raft.raftLog.lastIndex(), 3);
    assert.equal(rn.raft.raftLog.unstable.entries.length, 0);
  });

  it('a joiner with an empty config replays the founding entries into the same config', () => {
    const s = new MemoryStorage();
    const rn = new RawNode(cfg('d'), s);
    assert.equal(rn.status().conf.voters.length, 0);
    // The leader's first append after the joiner's rejection.
    const founders = new MemoryStorage({ voters: ['a', 'b', 'c'], learners: [] });
    const f = new RawNode(cfg('a'), founders);
    const entries = f.ready().entries;
    rn.step({ type: 'app', from: 'a', to: 'd', term: 2, index: 0, logTerm: 0, entries, commit: 3 });
    handle(rn, s);
    assert.deepEqual(rn.status().conf.voters, ['a', 'b', 'c']);
  });
});
