// The logs of this node's task containers, for `service logs`: each task's json-file log read (and
// followed, until cancelled) and sent on in batches. Tasks whose container is not here send nothing.
import { LABELS } from '../../api/swarm.js';
import type { LogsRequest, TaskLogEntry } from '../../manager/protocol.js';
import { follow, LineReader, openLog, readEntries, type LogQuery } from '../containers/logs.js';
import type { ContainerService } from '../containers/service.js';

export async function streamTaskLogs(containers: ContainerService, req: LogsRequest, emit: (entries: TaskLogEntry[]) => void, cancelled: Promise<void>): Promise<void> {
  const want = new Set(req.taskIds);
  const mine = containers.list().filter((c) => want.has(c.Config.Labels?.[LABELS.taskId] ?? ''));
  const q: LogQuery = { stdout: req.stdout, stderr: req.stderr, timestamps: true, ...(req.tail !== undefined ? { tail: req.tail } : {}), ...(req.since !== undefined ? { since: req.since } : {}) };
  await Promise.all(
    mine.map(async (c) => {
      const taskId = c.Config.Labels![LABELS.taskId]!;
      const path = containers.logPath(c.Id);
      const fh = await openLog(path);
      if (!fh) return;
      try {
        const reader = new LineReader(fh);
        const first = await readEntries(reader, q);
        if (first.length) emit(first.map((e) => ({ taskId, stream: e.stream, time: e.time, log: e.log })));
        if (req.follow) {
          let batch: TaskLogEntry[] = [];
          let timer: NodeJS.Timeout | undefined;
          const flush = () => {
            timer = undefined;
            if (batch.length) emit(batch);
            batch = [];
          };
          await follow(reader, { ...q, tail: undefined }, (e) => {
            batch.push({ taskId, stream: e.stream, time: e.time, log: e.log });
            // Lines of a burst travel together; a lone line goes within 20 ms.
            timer ??= setTimeout(flush, 20);
          }, cancelled, path);
          if (timer) clearTimeout(timer);
          flush();
        }
      } finally {
        await fh.close();
      }
    }),
  );
}
