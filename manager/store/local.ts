// A ReplicatedStore whose "raft" commits every proposal at once, in process: the same transactions,
// versions, refusals and watch events as the replicated store, for orchestrator tests and benches.
import type { ApplyResult } from './types.js';
import { ReplicatedStore, StoreStateMachine } from './replicated.js';

export function localStore(now?: () => Date): ReplicatedStore {
  const sm = new StoreStateMachine();
  let index = 0;
  const raft = {
    propose: async (data: Uint8Array): Promise<ApplyResult> => sm.apply(data, { index: ++index }),
    readBarrier: async (): Promise<void> => undefined,
  };
  return new ReplicatedStore(raft as unknown as ConstructorParameters<typeof ReplicatedStore>[0], sm, now);
}
