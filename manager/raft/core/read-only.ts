// ReadIndex bookkeeping on the leader (Raft thesis §6.4): a read is safe at the commit index it was
// registered with once a quorum has answered a heartbeat sent after it was registered.
import type { NodeId } from '../types.js';

export interface ReadRequest {
  index: number;
  /** '' or the leader's own id: answer locally; otherwise a follower that forwarded it. */
  from: NodeId;
  context: string;
  acks: Set<NodeId>;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadRequest>();
  private queue: string[] = [];

  add(index: number, from: NodeId, context: string, self: NodeId): void {
    if (this.pending.has(context)) return;
    this.pending.set(context, { index, from, context, acks: new Set([self]) });
    this.queue.push(context);
  }

  recvAck(id: NodeId, context: string): ReadonlySet<NodeId> | undefined {
    const rs = this.pending.get(context);
    if (rs === undefined) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Releases `context` and everything registered before it (the same heartbeat round confirms them). */
  advance(context: string): ReadRequest[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadRequest[] = [];
    for (const ctx of done) {
      const rs = this.pending.get(ctx);
      this.pending.delete(ctx);
      if (rs !== undefined) out.push(rs);
    }
    return out;
  }

  lastPendingContext(): string | undefined {
    return this.queue.length > 0 ? this.queue[this.queue.length - 1] : undefined;
  }
}
