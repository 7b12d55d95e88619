// The executor contract for one swarm task (see README.md): a TaskController drives one container
// through prepare → start → wait, and shutdown / terminate / remove, over the container service in
// process (not over HTTP), so the engine's events and records are the same as for `docker run`.
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import type { ContainerService } from '../containers/service.js';
import type { ContainerRecord } from '../containers/record.js';
import type { EngineEvent, EventBus } from '../events.js';
import type { ContainerCreateBody } from '../containers/create-config.js';

/** How a task's container ended. */
export interface TaskExit {
  exitCode: number;
  /** The runtime's or engine's reason when it failed to run at all (Docker's State.Error). */
  error?: string;
  oomKilled: boolean;
}

/** What a task's container looks like now; undefined before prepare and after remove. */
export interface TaskInspect {
  containerId: string;
  status: ContainerRecord['State']['Status'];
  pid: number;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
}

export interface TaskController {
  /** Creates the task's container from its spec (the image must be present). Idempotent. */
  prepare(): Promise<void>;
  /** Starts the prepared container; a started (or exited) one is not started again. */
  start(): Promise<void>;
  /** Resolves when the container is no longer running, with its exit. */
  wait(): Promise<TaskExit>;
  /** Stops with the spec's grace: the stop signal, SIGKILL after StopGracePeriod. */
  shutdown(): Promise<void>;
  /** Kills at once (SIGKILL); a container that is not running is left as it is. */
  terminate(): Promise<void>;
  /** Removes the container (forced: a running one is killed first); a missing one is fine. */
  remove(): Promise<void>;
  inspect(): TaskInspect | undefined;
  /** Engine events of this task's container (start, die, stop, kill, destroy …); returns unsubscribe. */
  events(listener: (e: EngineEvent) => void): () => void;
}

export interface ContainerTaskControllerDeps {
  containers: ContainerService;
  events: EventBus;
}

/** A TaskController over the in-process container service. */
export class ContainerTaskController implements TaskController {
  private containerId: string | undefined;

  constructor(
    private readonly d: ContainerTaskControllerDeps,
    /** The container's name, unique per task (swarm uses service.slot.taskid). */
    readonly name: string,
    /** The container's create body (task-spec.ts `createBody`, or container-body.ts for a swarm task). */
    readonly body: ContainerCreateBody,
  ) {}

  async prepare(): Promise<void> {
    if (this.record()) return;
    const out = await this.d.containers.create(this.body, this.name);
    this.containerId = out.Id;
  }

  async start(): Promise<void> {
    const c = this.required('start');
    if (c.State.Status !== 'created') return;
    await this.d.containers.start(c.Id);
  }

  async wait(): Promise<TaskExit> {
    const c = this.required('wait');
    const exitCode = await this.d.containers.waitExit(c.Id, 'not-running');
    const after = this.d.containers.tryGet(c.Id) ?? c;
    return { exitCode, oomKilled: after.State.OOMKilled, ...(after.State.Error ? { error: after.State.Error } : {}) };
  }

  async shutdown(): Promise<void> {
    const c = this.required('shut down');
    await this.d.containers.stop(c.Id, this.body.StopTimeout ?? 10);
  }

  async terminate(): Promise<void> {
    const c = this.required('terminate');
    try {
      await this.d.containers.kill(c.Id, 'SIGKILL');
    } catch (err) {
      // Not running (any more): there is nothing to kill, which is what terminate asks for.
      if (!(err instanceof ConflictError)) throw err;
    }
  }

  async remove(): Promise<void> {
    const c = this.record();
    if (!c) return;
    try {
      await this.d.containers.remove(c.Id, { force: true, volumes: false });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    this.containerId = undefined;
  }

  inspect(): TaskInspect | undefined {
    const c = this.record();
    if (!c) return undefined;
    return { containerId: c.Id, status: c.State.Status, pid: c.State.Pid, exitCode: c.State.ExitCode, startedAt: c.State.StartedAt, finishedAt: c.State.FinishedAt };
  }

  events(listener: (e: EngineEvent) => void): () => void {
    return this.d.events.subscribe((e) => {
      if (e.Type === 'container' && (e.Actor.ID === this.containerId || e.Actor.Attributes.name === this.name)) listener(e);
    });
  }

  /** The container, found by id or (after a restart of the agent) by the task's name. */
  private record(): ContainerRecord | undefined {
    if (this.containerId) {
      const c = this.d.containers.tryGet(this.containerId);
      if (c) return c;
    }
    try {
      const c = this.d.containers.resolve(this.name);
      this.containerId = c.Id;
      return c;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  private required(what: string): ContainerRecord {
    const c = this.record();
    if (!c) throw new NotFoundError(`cannot ${what} task ${this.name}: its container does not exist (call prepare first)`);
    return c;
  }
}
