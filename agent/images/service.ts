// The engine's image operations that change the store, each publishing its Docker event itself, so an
// in-process caller (the swarm task executor) produces the same event stream as the API does.
import { ConflictError } from '../../lib/errors.js';
import { loadArchive, saveArchive, type ImageStore, type LoadResult, type RemoveResult } from '../../image/index.js';
import { familiarName, parseReference } from '../../image/reference.js';
import type { Digest } from '../../image/digest.js';
import { pullImage, type PullOptions, type PullResult } from '../../image/registry/pull.js';
import { pushImage, type PushOptions, type PushResult } from '../../image/registry/push.js';
import type { EventBus } from '../events.js';

export interface ImageServiceDeps {
  store: ImageStore;
  events: EventBus;
  /** Which of the given container ids exist and which of them run (for removal's in-use check). */
  containers: { exists(id: string): boolean; isRunning(id: string): boolean };
}

export class ImageService {
  constructor(private readonly d: ImageServiceDeps) {}

  get store(): ImageStore {
    return this.d.store;
  }

  /** Loads a `docker save` archive from a file; one `load` event per loaded name or id. */
  async load(file: string): Promise<LoadResult> {
    const r = await loadArchive(this.d.store, file);
    for (const m of r.messages) this.d.events.publish('image', 'load', m.replace(/^Loaded image(?: ID)?: /, ''));
    return r;
  }

  /** Writes the named images to a `docker save` archive; one `save` event per name. */
  async save(names: string[], file: string): Promise<void> {
    await saveArchive(this.d.store, names, file);
    for (const n of names) this.d.events.publish('image', 'save', n);
  }

  async pull(ref: string, opts: PullOptions = {}): Promise<PullResult> {
    const r = await pullImage(this.d.store, ref, opts);
    this.d.events.publish('image', 'pull', ref);
    return r;
  }

  /** Pushes a local image (it must exist: NoSuchImageError otherwise, before any network traffic). */
  async push(ref: string, opts: PushOptions = {}): Promise<PushResult> {
    this.d.store.get(ref);
    const r = await pushImage(this.d.store, ref, opts);
    this.d.events.publish('image', 'push', ref);
    return r;
  }

  async tag(source: string, target: string): Promise<void> {
    await this.d.store.tag(source, target);
    this.d.events.publish('image', 'tag', this.d.store.get(source).id, { name: target });
  }

  /**
   * Untags or deletes `name`. An image that containers use is refused unless forced, naming the
   * running container first, as Docker does.
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<RemoveResult[]> {
    const rec = this.d.store.get(name);
    const users = this.d.store.containersUsing(rec.id).filter((id) => this.d.containers.exists(id));
    // Like Docker, one of several tags is only untagged, whoever uses the image.
    if (users.length && !opts.force && !this.isOneOfSeveralTags(name, rec.id)) {
      const running = users.find((id) => this.d.containers.isRunning(id));
      throw new ConflictError(
        `conflict: unable to remove repository reference "${name}" (must force) - container ${(running ?? users[0]!).slice(0, 12)} is using its referenced image ${rec.id.slice(7, 19)}`,
      );
    }
    const out = await this.d.store.remove(name, { force: opts.force ?? false });
    for (const r of out) {
      if (r.Untagged) this.d.events.publish('image', 'untag', rec.id, { name: r.Untagged });
      else this.d.events.publish('image', 'delete', r.Deleted!, { name });
    }
    return out;
  }

  private isOneOfSeveralTags(name: string, id: Digest): boolean {
    const tags = this.d.store.repoTags(id);
    if (tags.length < 2) return false;
    try {
      return tags.includes(familiarName(parseReference(name)));
    } catch {
      return false;
    }
  }
}
