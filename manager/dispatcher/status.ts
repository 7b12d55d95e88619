// Task status from agents, batched: updates collected over a short window are written as one store
// entry. An update is taken only from the node the task is assigned to, and only forward (a late or
// repeated report never moves a task back).
import type { TaskStatusUpdate } from '../protocol.js';
import { stateOrder, type TaskObject } from '../orchestrator/model.js';
import type { ReplicatedStore } from '../store/replicated.js';

export class StatusBatcher {
  private readonly pending = new Map<string, { nodeId: string; status: TaskStatusUpdate['status'] }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: ReplicatedStore,
    private readonly log: (event: string, fields: Record<string, unknown>) => void,
    private readonly windowMs = 20,
  ) {}

  add(nodeId: string, updates: readonly TaskStatusUpdate[]): void {
    for (const u of updates) this.pending.set(u.taskId, { nodeId, status: u.status });
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.windowMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  async flush(): Promise<void> {
    this.timer = undefined;
    if (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = new Map(this.pending);
    this.pending.clear();
    this.flushing = this.write(batch).finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async write(batch: Map<string, { nodeId: string; status: TaskStatusUpdate['status'] }>): Promise<void> {
    // A concurrent orchestrator pass may update the same tasks first: re-read and retry.
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.store.update((tx) => {
          for (const [id, u] of batch) {
            const t = tx.get('tasks', id) as unknown as TaskObject | undefined;
            if (!t || t.NodeID !== u.nodeId) continue;
            const cur = stateOrder(t.Status.State);
            const next = stateOrder(u.status.State);
            if (next < cur || (next === cur && u.status.Message === t.Status.Message && u.status.Err === t.Status.Err)) continue;
            tx.update('tasks', { ...t, Status: { ...u.status } } as never);
          }
        });
        return;
      } catch (e) {
        if (attempt === 4) this.log('dispatcher.status_write_failed', { tasks: batch.size, error: (e as Error).message });
      }
    }
  }
}
