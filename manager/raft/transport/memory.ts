// In-process transport for tests: a MemoryNetwork delivers messages between its transports on a
// later event-loop turn, optionally through the binary codec (to exercise it and to stop senders and
// receivers from sharing mutable objects) and through a filter that can drop messages (partitions).
import type { Message, NodeId, Transport } from '../types.js';
import { decodeMessage, encodeMessage } from './codec.js';

export interface MemoryNetworkOptions {
  /** Round-trip every message through the binary codec (default true). */
  encode?: boolean;
}

export class MemoryNetwork {
  private readonly nodes = new Map<NodeId, MemoryTransport>();
  private readonly cut = new Set<NodeId>();
  private queue: Message[] = [];
  private scheduled = false;
  /** Return false to drop a message. */
  filter: ((m: Message) => boolean) | undefined;

  constructor(private readonly opts: MemoryNetworkOptions = {}) {}

  transport(id: NodeId): MemoryTransport {
    let t = this.nodes.get(id);
    if (!t) {
      t = new MemoryTransport(id, this);
      this.nodes.set(id, t);
    }
    return t;
  }

  /** Drops all traffic to and from `id` until heal(). */
  isolate(id: NodeId): void {
    this.cut.add(id);
  }

  heal(id?: NodeId): void {
    if (id === undefined) this.cut.clear();
    else this.cut.delete(id);
  }

  /** @internal */
  enqueue(from: MemoryTransport, messages: Message[]): void {
    for (const m of messages) {
      if (!from.knows(m.to)) continue;
      this.queue.push(this.opts.encode === false ? m : decodeMessage(Buffer.from(encodeMessage(m))));
    }
    if (!this.scheduled && this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.deliver());
    }
  }

  /** @internal */
  detach(id: NodeId): void {
    this.nodes.delete(id);
  }

  private deliver(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) {
      if (this.cut.has(m.from) || this.cut.has(m.to)) continue;
      if (this.filter && !this.filter(m)) continue;
      this.nodes.get(m.to)?.receive(m);
    }
  }
}

export class MemoryTransport implements Transport {
  private handler: ((m: Message) => void) | undefined;
  private readonly peers = new Set<NodeId>();
  private closed = false;

  constructor(
    readonly id: NodeId,
    private readonly net: MemoryNetwork,
  ) {}

  send(messages: Message[]): void {
    if (!this.closed) this.net.enqueue(this, messages);
  }

  onMessage(handler: (m: Message) => void): void {
    this.handler = handler;
  }

  addPeer(id: NodeId, _address = ''): void {
    this.peers.add(id);
  }

  removePeer(id: NodeId): void {
    this.peers.delete(id);
  }

  /** @internal */
  knows(id: NodeId): boolean {
    return this.peers.has(id);
  }

  /** @internal */
  receive(m: Message): void {
    if (!this.closed) this.handler?.(m);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.net.detach(this.id);
  }
}
