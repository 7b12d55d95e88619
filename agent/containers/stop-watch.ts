// Waiting for a container to stop: an exit without a pending restart, or its removal. Streams that
// follow a container (logs -f, attach, run) end on it.
import type { EventEmitter } from 'node:events';
import type { ContainerRecord } from './record.js';

/** What a stop watch needs of the container service. */
export interface StopSource {
  readonly events: EventEmitter;
  tryGet(id: string): ContainerRecord | undefined;
  isRunning(id: string): boolean;
}

export interface StopWatch {
  /** Resolves at the stop, or at cancel(). */
  done: Promise<void>;
  /** Ends the watch now (the client went away); done resolves. */
  cancel(): void;
}

/**
 * `endIfNotRunning`: a container that is not running now counts as stopped already; without it (a
 * container about to be started) only a stop seen from now on does.
 */
export function watchStop(cs: StopSource, id: string, endIfNotRunning: boolean): StopWatch {
  let cancel = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    const finish = (): void => {
      cs.events.off(`exit:${id}`, onExit);
      cs.events.off(`removed:${id}`, finish);
      resolve();
    };
    const onExit = (): void => {
      const c = cs.tryGet(id);
      if (!c || c.State.Status !== 'restarting') finish();
    };
    cancel = finish;
    cs.events.on(`exit:${id}`, onExit);
    cs.events.once(`removed:${id}`, finish);
    if (endIfNotRunning && !cs.isRunning(id)) onExit();
  });
  return { done, cancel };
}
