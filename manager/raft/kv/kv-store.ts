// The replicated key-value state machine. Deterministic: the same log yields the same state and
// results on every replica; revision is the raft index of the last change.
import type { Entry } from '../types.js';
import type { StateMachine } from '../node/state-machine.js';
import { decodeKvCommand, type KvResult } from './commands.js';

interface KvSnapshot {
  revision: number;
  data: [string, string][];
}

export class KvStore implements StateMachine<KvResult> {
  private readonly data = new Map<string, string>();
  private rev = 0;

  get revision(): number {
    return this.rev;
  }

  get size(): number {
    return this.data.size;
  }

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  apply(payload: Uint8Array, entry: Entry): KvResult {
    const c = decodeKvCommand(payload);
    switch (c.op) {
      case 'put':
        this.data.set(c.key, c.value);
        this.rev = entry.index;
        return { op: 'put', revision: this.rev };
      case 'del': {
        const deleted = this.data.delete(c.key);
        if (deleted) this.rev = entry.index;
        return { op: 'del', revision: this.rev, deleted };
      }
      case 'cas': {
        const current = this.data.get(c.key) ?? null;
        if (current !== c.expect) return { op: 'cas', revision: this.rev, ok: false, current };
        this.data.set(c.key, c.value);
        this.rev = entry.index;
        return { op: 'cas', revision: this.rev, ok: true, current: c.value };
      }
      default:
        throw new Error(`kv: unknown op in entry ${entry.index}: ${JSON.stringify(c)}`);
    }
  }

  snapshot(): Uint8Array {
    const data = [...this.data.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const s: KvSnapshot = { revision: this.rev, data };
    return Buffer.from(JSON.stringify(s));
  }

  restore(bytes: Uint8Array): void {
    this.data.clear();
    this.rev = 0;
    if (bytes.length === 0) return;
    const s = JSON.parse(Buffer.from(bytes).toString('utf8')) as KvSnapshot;
    if (!Array.isArray(s.data) || typeof s.revision !== 'number') throw new Error('kv: malformed snapshot');
    for (const [k, v] of s.data) this.data.set(k, v);
    this.rev = s.revision;
  }
}
