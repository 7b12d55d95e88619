// The volume service behind `/volumes/*`: records, the local driver, which containers use which
// volume, and Docker's rules for create, inspect, list, rm and prune.
//
// References are not persisted: they are derived from containers, so the engine re-acquires them
// for every container record it loads before anything may be pruned.
import { join } from 'node:path';
import type { EventBus } from '../events.js';
import { ConflictError, conflict, invalid, notFound } from '../../lib/errors.js';
import { RecordStore, type CorruptRecord } from '../store/records.js';
import { newId } from '../containers/names.js';
import { VOLUME_NAME_RE } from '../../api/binds.js';
import { LocalDriver, type CopyTree } from './local-driver.js';
import { boolFilter, checkFilterKeys, matchLabels, matchName, matchNoLabels, type Filters } from '../../lib/filters.js';

/** Docker's label for volumes a container created without a name; `prune` only takes these by default. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  Labels: Record<string, string>;
  Options: Record<string, string> | null;
  CreatedAt: string;
}

/** `docker volume inspect` shape. */
export interface Volume extends VolumeRecord {
  Mountpoint: string;
  Scope: 'local';
  UsageData?: { Size: number; RefCount: number };
}

export interface CreateVolumeRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface VolumeServiceOptions {
  dataRoot: string;
  now?: () => Date;
  copyTree?: CopyTree;
  /** Where `volume` events go (the daemon's event bus); the service publishes its own. */
  events?: Pick<EventBus, 'publish'>;
}

const LOCAL_MOUNT_OPTS = ['type', 'device', 'o'];

/** RFC 3339 without fractions, as Docker prints CreatedAt. */
const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function validateVolumeName(name: string): void {
  if (!VOLUME_NAME_RE.test(name)) {
    throw invalid(
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

export class VolumeService {
  readonly driver: LocalDriver;
  private readonly store: RecordStore<VolumeRecord>;
  private readonly refs = new Map<string, Set<string>>();
  private readonly now: () => Date;
  /** Creates in flight, so two concurrent creates of one name make one volume. */
  private readonly creating = new Map<string, Promise<Volume>>();

  private readonly events: Pick<EventBus, 'publish'> | undefined;

  constructor(opts: VolumeServiceOptions) {
    this.events = opts.events;
    const root = join(opts.dataRoot, 'volumes');
    this.driver = new LocalDriver(root, opts.copyTree);
    this.now = opts.now ?? (() => new Date());
    // Metadata lives beside the volume dirs; a leading "_" cannot clash with a valid volume name.
    this.store = new RecordStore<VolumeRecord>(join(root, '_meta'), { validate: validateRecord, now: this.now });
  }

  /**
   * Loads records and reconciles them with the directories: a record whose directory vanished gets an
   * empty one again; a valid-named directory without a record is adopted (its record was lost).
   */
  async load(): Promise<{ corrupt: CorruptRecord[]; adopted: string[]; recreated: string[] }> {
    const { corrupt } = await this.store.load();
    const recreated: string[] = [];
    for (const r of this.store.all()) {
      if (!(await this.driver.exists(r.Name))) {
        await this.driver.create(r.Name);
        recreated.push(r.Name);
      }
    }
    const adopted: string[] = [];
    for (const d of await this.driver.listDirs()) {
      if (!VOLUME_NAME_RE.test(d) || this.store.has(d) || !(await this.driver.exists(d))) continue;
      await this.store.put(d, { Name: d, Driver: 'local', Labels: {}, Options: null, CreatedAt: rfc3339(this.now()) });
      adopted.push(d);
    }
    return { corrupt, adopted, recreated };
  }

  /**
   * `POST /volumes/create`. An existing name returns the existing volume, as Docker does. `anonymous`
   * is for volumes a container creates for `-v /path` or an image VOLUME.
   */
  async create(req: CreateVolumeRequest, opts: { anonymous?: boolean } = {}): Promise<Volume> {
    const v = await this.createOrGet(req, opts);
    // Docker announces a create even when the name already existed.
    this.events?.publish('volume', 'create', v.Name, { driver: v.Driver });
    return v;
  }

  private async createOrGet(req: CreateVolumeRequest, opts: { anonymous?: boolean }): Promise<Volume> {
    const driver = req.Driver || 'local';
    if (driver !== 'local') throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found (only the "local" driver is available)`);
    const name = req.Name || newId();
    validateVolumeName(name);
    for (const k of Object.keys(req.DriverOpts ?? {})) {
      if (LOCAL_MOUNT_OPTS.includes(k)) {
        throw invalid(`create ${name}: invalid option "${k}": mounting a filesystem into a volume (type, device, o) is not supported by this local driver; create the volume without --opt`);
      }
      throw invalid(`create ${name}: invalid option key: "${k}" (the local driver accepts no options here)`);
    }
    const existing = this.store.get(name);
    if (existing) return this.view(existing);
    const inflight = this.creating.get(name);
    if (inflight) return inflight;
    const labels: Record<string, string> = { ...(req.Labels ?? {}) };
    if (opts.anonymous) labels[ANONYMOUS_LABEL] = '';
    const rec: VolumeRecord = { Name: name, Driver: 'local', Labels: labels, Options: req.DriverOpts ? {} : null, CreatedAt: rfc3339(this.now()) };
    const p = (async () => {
      await this.driver.create(name);
      await this.store.put(name, rec);
      return this.view(rec);
    })();
    this.creating.set(name, p);
    try {
      return await p;
    } finally {
      this.creating.delete(name);
    }
  }

  /** `GET /volumes/{name}`. */
  inspect(name: string): Volume {
    return this.view(this.get(name));
  }

  has(name: string): boolean {
    return this.store.has(name);
  }

  private get(name: string): VolumeRecord {
    const r = this.store.get(name);
    if (!r) throw notFound(`get ${name}: no such volume`);
    return r;
  }

  private view(r: VolumeRecord): Volume {
    return { ...r, Labels: { ...r.Labels }, Mountpoint: this.driver.mountpoint(r.Name), Scope: 'local' };
  }

  /** `GET /volumes`, filters: name, label, dangling, driver. */
  list(filters: Filters = {}): { Volumes: Volume[]; Warnings: string[] } {
    // A bad filter is a FilterError: kind invalid already.
    checkFilterKeys(filters, ['name', 'label', 'dangling', 'driver']);
    const dangling = boolFilter(filters, 'dangling');
    const drivers = filters.driver ?? [];
    const out = this.store
      .all()
      .filter((r) => matchName(r.Name, filters.name ?? []))
      .filter((r) => matchLabels(r.Labels, filters.label ?? []))
      .filter((r) => drivers.length === 0 || drivers.includes(r.Driver))
      .filter((r) => dangling === undefined || dangling === (this.usedBy(r.Name).length === 0))
      .sort((a, b) => a.Name.localeCompare(b.Name))
      .map((r) => this.view(r));
    return { Volumes: out, Warnings: [] };
  }

  /**
   * `DELETE /volumes/{name}`. An in-use volume is refused even with force (as in Docker); force only
   * makes a missing volume a success.
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    if (!this.store.has(name)) {
      if (opts.force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    const users = this.usedBy(name);
    if (users.length > 0) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    await this.store.delete(name);
    await this.driver.remove(name);
    this.events?.publish('volume', 'destroy', name, { driver: 'local' });
  }

  /**
   * `POST /volumes/prune`: unused anonymous volumes, or every unused volume with the `all=true`
   * filter (Docker 23+). Also filters by `label` and `label!`.
   */
  async prune(filters: Filters = {}): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    // A bad filter is a FilterError: kind invalid already.
    checkFilterKeys(filters, ['label', 'label!', 'all']);
    const all = boolFilter(filters, 'all');
    const deleted: string[] = [];
    let space = 0;
    for (const r of this.store.all().sort((a, b) => a.Name.localeCompare(b.Name))) {
      if (this.usedBy(r.Name).length > 0) continue;
      if (!all && !(ANONYMOUS_LABEL in r.Labels)) continue;
      if (!matchLabels(r.Labels, filters.label ?? []) || !matchNoLabels(r.Labels, filters['label!'] ?? [])) continue;
      const size = await this.driver.size(r.Name);
      try {
        await this.remove(r.Name);
      } catch (e) {
        // Acquired between the check and the removal: it is in use now, so not prunable.
        if (e instanceof ConflictError) continue;
        throw e;
      }
      deleted.push(r.Name);
      space += size;
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: space };
  }

  /** Records that container `id` uses the volume. */
  acquire(name: string, containerId: string): void {
    this.get(name);
    let s = this.refs.get(name);
    if (!s) this.refs.set(name, (s = new Set()));
    s.add(containerId);
  }

  release(name: string, containerId: string): void {
    const s = this.refs.get(name);
    if (!s) return;
    s.delete(containerId);
    if (s.size === 0) this.refs.delete(name);
  }

  usedBy(name: string): string[] {
    return [...(this.refs.get(name) ?? [])].sort();
  }

  /** Fills a new, empty volume from the image's content at the mount path (`src`). */
  async copyUp(name: string, src: string): Promise<boolean> {
    this.get(name);
    return this.driver.copyUp(name, src);
  }

  /** `docker system df -v` data. */
  async usage(name: string): Promise<{ Size: number; RefCount: number }> {
    this.get(name);
    return { Size: await this.driver.size(name), RefCount: this.usedBy(name).length };
  }
}

function validateRecord(v: unknown, id: string): VolumeRecord {
  const r = v as Partial<VolumeRecord> | null;
  if (typeof r !== 'object' || r === null) throw new Error(`volume record ${id}: not an object`);
  if (r.Name !== id) throw new Error(`volume record ${id}: Name is ${JSON.stringify(r.Name)}, expected "${id}"`);
  if (r.Driver !== 'local') throw new Error(`volume record ${id}: unknown Driver ${JSON.stringify(r.Driver)}`);
  if (typeof r.CreatedAt !== 'string') throw new Error(`volume record ${id}: CreatedAt missing`);
  return { Name: r.Name, Driver: 'local', Labels: r.Labels ?? {}, Options: r.Options ?? null, CreatedAt: r.CreatedAt };
}
