// `swarm init --force-new-cluster`: recovery after quorum loss. The manager's committed raft log is
// replayed into the store (offline, deterministic), and a new raft storage is seeded with that state as
// a snapshot whose membership is this manager alone. The old raft data is kept beside it, renamed,
// never deleted. The other managers' node objects stay (down) until they are demoted or removed.
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { unwrap } from './raft/node/envelope.js';
import { DiskStorage } from './raft/storage/disk-storage.js';
import { StoreStateMachine } from './store/replicated.js';
import { UnavailableError } from '../lib/errors.js';

export interface Recovered {
  /** The last committed index the store reflects. */
  index: number;
  term: number;
  /** Where the previous raft data now lives. */
  keptAt: string;
}

export async function forceNewCluster(swarmDir: string, nodeId: string, now = Date.now()): Promise<Recovered> {
  const dir = join(swarmDir, 'raft');
  const old = await DiskStorage.open(dir);
  if (old.isEmpty()) throw new UnavailableError(`${dir} holds no raft state to recover: this node was not a manager`);
  const { hardState } = old.initialState();
  const snap = old.snapshot();
  const sm = new StoreStateMachine();
  sm.restore(snap.data);
  // Only what was committed: an entry past the commit index may never have been agreed on.
  const commit = Math.max(hardState.commit, snap.meta.index);
  const anyIncarnation = Buffer.alloc(8);
  let term = snap.meta.term;
  for (let lo = snap.meta.index + 1; lo <= commit; ) {
    const batch = old.entries(lo, commit + 1, 64 * 1024 * 1024);
    for (const e of batch) {
      term = e.term;
      if (e.type === 'normal' && e.data.length > 0) sm.apply(unwrap(anyIncarnation, e.data).payload, e);
    }
    lo += batch.length;
  }
  await old.close();
  const keptAt = `${dir}.before-force-new-cluster-${now}`;
  await rename(dir, keptAt);
  const fresh = await DiskStorage.open(dir);
  fresh.applySnapshot({ meta: { index: commit, term, conf: { voters: [nodeId], learners: [] } }, data: sm.snapshot() });
  fresh.setHardState({ term, vote: nodeId, commit });
  await fresh.sync();
  await fresh.close();
  return { index: commit, term, keptAt };
}
