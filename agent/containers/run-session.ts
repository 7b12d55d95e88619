// `docker run` in one request: create, then start with everything that reports the end (exit code,
// removal under --rm) in place first, so neither is missed. The API adapter only wires the streams.
import type { ContainerCreateBody } from './create-config.js';
import type { ContainerService } from './service.js';
import { watchStop, type StopWatch } from './stop-watch.js';

export class RunSession {
  private firstCode: number | undefined;
  private lastCode = 0;
  private readonly onExit = (n: number): void => {
    this.firstCode ??= n;
    this.lastCode = n;
  };
  /** Resolves once an --rm container is gone (at once without --rm). */
  readonly removed: Promise<void>;
  /** The container's first stop from now on. */
  readonly stopped: StopWatch;

  private constructor(
    private readonly cs: ContainerService,
    readonly created: { Id: string; Warnings: string[] },
    readonly autoRemove: boolean,
  ) {
    const id = created.Id;
    cs.events.on(`exit:${id}`, this.onExit);
    this.removed = autoRemove ? new Promise<void>((resolve) => cs.events.once(`removed:${id}`, () => resolve())) : Promise.resolve();
    this.stopped = watchStop(cs, id, false);
  }

  /** Creates the container; nothing is started yet. */
  static async create(cs: ContainerService, body: ContainerCreateBody, name: string | undefined, opts: { timeline?: boolean } = {}): Promise<RunSession> {
    const created = await cs.create(body, name, opts);
    return new RunSession(cs, created, body.HostConfig?.AutoRemove === true);
  }

  get id(): string {
    return this.created.Id;
  }

  /** Starts the container; when that fails an --rm container is not left behind (as `docker run --rm`). */
  async start(): Promise<void> {
    try {
      await this.cs.start(this.id);
    } catch (err) {
      await this.discard();
      this.close();
      throw err;
    }
  }

  /** Removes an --rm container that will not be started after all. */
  async discard(): Promise<void> {
    if (this.autoRemove) await this.cs.remove(this.id, { force: true, volumes: true }).catch(() => undefined);
  }

  /** The exit code of the first exit (0 before any). */
  get firstExitCode(): number {
    return this.firstCode ?? 0;
  }
  /** The exit code of the latest exit (0 before any). */
  get lastExitCode(): number {
    return this.lastCode;
  }

  /** Stops listening; the session's codes keep their last values. */
  close(): void {
    this.cs.events.off(`exit:${this.id}`, this.onExit);
    this.stopped.cancel();
  }
}
