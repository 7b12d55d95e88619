// The Engine API calls tscompose makes, with Docker's paths and field names, over cli/client.ts.
// Thin: each method is one call (or a short sequence) with errors that name the object they were about.
import type { IncomingMessage } from 'node:http';
import { Client, DaemonError } from '../client.js';
import { LABELS, type Network, type Volume } from '../../compose-spec/index.js';
import type { EngineState, ObservedContainer } from './plan.js';
import type { ContainerSpec } from './spec.js';
import { nameOf, type ContainerSummary } from './summary.js';

export { nameOf, type ContainerSummary };

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; ExitCode: number; Health?: { Status: string; Log?: Array<{ Output?: string }> } };
  Config: { Labels: Record<string, string>; Image: string; Healthcheck?: { Test?: string[] } };
  NetworkSettings: { Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>; Networks: Record<string, { IPAddress: string }> };
}


export function observe(c: ContainerSummary): ObservedContainer {
  const mounts = (c.Mounts ?? []).map((m) => ({ type: m.Type, name: m.Name ?? '', destination: m.Destination, rw: m.RW }));
  return { id: c.Id, name: nameOf(c), labels: c.Labels ?? {}, state: c.State, mounts, ...(c.HostConfig?.NetworkMode ? { networkMode: c.HostConfig.NetworkMode } : {}) };
}

/** The list calls' network and volume entries, with the fields the planner compares. */
interface NetworkEntry {
  Id: string;
  Name: string;
  Labels: Record<string, string> | null;
  Driver?: string;
  Internal?: boolean;
  Options?: Record<string, string> | null;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> | null };
}
interface VolumeEntry {
  Name: string;
  Labels: Record<string, string> | null;
  Driver?: string;
  Options?: Record<string, string> | null;
}

const projectFilter = (project: string, extra: string[] = []): string => JSON.stringify({ label: [`${LABELS.project}=${project}`, ...extra] });

/** Reads a JSON-lines progress stream (pull, push, load); throws on the first {error}. */
async function readJsonLines(res: IncomingMessage, onLine: (l: { status?: string; id?: string; stream?: string }) => void, what: string): Promise<void> {
  if ((res.statusCode ?? 0) >= 400) {
    let text = '';
    for await (const c of res) text += (c as Buffer).toString();
    let msg = text;
    try {
      msg = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      /* plain text */
    }
    throw new Error(`${what}: ${msg.trim()}`);
  }
  let buf = '';
  for await (const chunk of res) {
    buf += (chunk as Buffer).toString();
    let i: number;
    while ((i = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as { status?: string; id?: string; stream?: string; error?: string };
      if (msg.error) throw new Error(`${what}: ${msg.error}`);
      onLine(msg);
    }
  }
}

/** What waiting on a container needs: its state as `inspect` would report it. */
export interface ContainerState {
  status: string;
  running: boolean;
  exitCode: number;
  health?: string;
  labels: Record<string, string>;
}

/** This engine's addition to the list call's entries: the container's state record. */
type SummaryWithState = ContainerSummary & { StateDetail?: { Status: string; ExitCode: number; Health?: { Status: string } } };

export class Api {
  constructor(readonly client: Client = new Client()) {}

  containers(project: string, opts: { all?: boolean; labels?: string[] } = {}): Promise<ContainerSummary[]> {
    return this.client.call<ContainerSummary[]>('/containers/json', { query: { all: opts.all ?? true ? 1 : 0, filters: projectFilter(project, opts.labels) } });
  }

  async allContainers(labels: string[]): Promise<ContainerSummary[]> {
    return this.client.call<ContainerSummary[]>('/containers/json', { query: { all: 1, filters: JSON.stringify({ label: labels }) } });
  }

  async state(project: string): Promise<EngineState & { summaries: ContainerSummary[] }> {
    const [summaries, networks, volumes] = await Promise.all([
      this.containers(project),
      this.client.call<NetworkEntry[]>('/networks'),
      this.client.call<{ Volumes: VolumeEntry[] | null }>('/volumes'),
    ]);
    return {
      summaries,
      containers: summaries.map(observe),
      networks: networks.map((n) => ({
        id: n.Id,
        name: n.Name,
        labels: n.Labels ?? {},
        ...(n.Driver !== undefined
          ? { config: { driver: n.Driver, internal: n.Internal ?? false, options: n.Options ?? {}, ipam: (n.IPAM?.Config ?? []).map((c) => ({ ...(c.Subnet ? { subnet: c.Subnet } : {}), ...(c.Gateway ? { gateway: c.Gateway } : {}) })) } }
          : {}),
      })),
      volumes: (volumes.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {}, ...(v.Driver !== undefined ? { config: { driver: v.Driver, options: v.Options ?? {} } } : {}) })),
    };
  }

  async createNetwork(project: string, key: string, n: Network, version: string): Promise<void> {
    const labels = { ...n.labels, [LABELS.project]: project, [LABELS.network]: key, [LABELS.version]: version };
    const ipam = n.ipam?.config[0];
    await this.client.call('/networks/create', {
      body: {
        Name: n.name,
        ...(n.driver ? { Driver: n.driver } : {}),
        Internal: n.internal,
        Attachable: n.attachable,
        Labels: labels,
        Options: n.driver_opts,
        ...(ipam ? { IPAM: { Config: [{ ...(ipam.subnet ? { Subnet: ipam.subnet } : {}), ...(ipam.gateway ? { Gateway: ipam.gateway } : {}) }] } } : {}),
      },
    });
  }

  async createVolume(project: string, key: string, v: Volume, version: string): Promise<void> {
    const labels = { ...v.labels, [LABELS.project]: project, [LABELS.volume]: key, [LABELS.version]: version };
    await this.client.call('/volumes/create', { body: { Name: v.name, ...(v.driver ? { Driver: v.driver } : {}), DriverOpts: v.driver_opts, Labels: labels } });
  }

  /** The VOLUME paths of an image's config (anonymous volumes the engine adds to its containers). */
  async imageVolumes(ref: string): Promise<string[]> {
    const img = await this.client.call<{ Config?: { Volumes?: Record<string, unknown> | null } | null }>(`/images/${encodeURIComponent(ref)}/json`);
    return Object.keys(img.Config?.Volumes ?? {});
  }

  async removeNetwork(name: string): Promise<void> {
    await this.client.call(`/networks/${encodeURIComponent(name)}`, { method: 'DELETE' });
  }

  async removeVolume(name: string): Promise<void> {
    await this.client.call(`/volumes/${encodeURIComponent(name)}`, { method: 'DELETE' });
  }

  /** Creates the container and joins its extra networks; returns its id. */
  async createContainer(spec: ContainerSpec): Promise<string> {
    const { Id } = await this.client.call<{ Id: string }>('/containers/create', { query: { name: spec.name }, body: spec.body });
    for (const c of spec.connect) {
      await this.client.call(`/networks/${encodeURIComponent(c.network)}/connect`, {
        body: { Container: Id, EndpointConfig: { Aliases: c.aliases, ...(c.ipv4 ? { IPAMConfig: { IPv4Address: c.ipv4 } } : {}) } },
      });
    }
    return Id;
  }

  async start(id: string): Promise<void> {
    await this.client.call(`/containers/${id}/start`, { method: 'POST' });
  }

  async stop(id: string, timeout?: number): Promise<void> {
    await this.client.call(`/containers/${id}/stop`, { method: 'POST', query: { t: timeout } });
  }

  async restart(id: string, timeout?: number): Promise<void> {
    await this.client.call(`/containers/${id}/restart`, { method: 'POST', query: { t: timeout } });
  }

  async kill(id: string, signal?: string): Promise<void> {
    await this.client.call(`/containers/${id}/kill`, { method: 'POST', query: { signal } });
  }

  async pause(id: string): Promise<void> {
    await this.client.call(`/containers/${id}/pause`, { method: 'POST' });
  }

  async unpause(id: string): Promise<void> {
    await this.client.call(`/containers/${id}/unpause`, { method: 'POST' });
  }

  async remove(id: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.client.call(`/containers/${id}`, { method: 'DELETE', query: { force: opts.force ? 1 : undefined, v: opts.volumes ? 1 : undefined } });
  }

  /**
   * The states of several containers of a project in one list call (its entries carry each state
   * record, health included), for polling while waiting on them; `inspect` for any the answer leaves
   * without that record (another engine) or out (gone: inspect then fails as it always did).
   */
  async states(project: string, ids: string[]): Promise<Map<string, ContainerState>> {
    const list = await this.client.call<SummaryWithState[]>('/containers/json', { query: { all: 1, filters: JSON.stringify({ id: ids, label: [`${LABELS.project}=${project}`] }) } });
    const out = new Map<string, ContainerState>();
    for (const c of list) {
      const d = c.StateDetail;
      if (!d || !ids.includes(c.Id)) continue;
      out.set(c.Id, { status: d.Status, running: d.Status === 'running' || d.Status === 'paused', exitCode: d.ExitCode, ...(d.Health ? { health: d.Health.Status } : {}), labels: c.Labels ?? {} });
    }
    await Promise.all(
      ids
        .filter((id) => !out.has(id))
        .map(async (id) => {
          const s = await this.inspect(id);
          out.set(id, { status: s.State.Status, running: s.State.Running, exitCode: s.State.ExitCode, ...(s.State.Health ? { health: s.State.Health.Status } : {}), labels: s.Config.Labels ?? {} });
        }),
    );
    return out;
  }

  inspect(id: string): Promise<ContainerInspect> {
    return this.client.call<ContainerInspect>(`/containers/${id}/json`);
  }

  async wait(id: string): Promise<number> {
    const r = await this.client.call<{ StatusCode: number }>(`/containers/${id}/wait`, { method: 'POST' });
    return r.StatusCode;
  }

  async imageExists(ref: string): Promise<boolean> {
    try {
      await this.client.call(`/images/${encodeURIComponent(ref)}/json`);
      return true;
    } catch (e) {
      if (e instanceof DaemonError && e.status === 404) return false;
      throw e;
    }
  }

  async pull(ref: string, onStatus: (s: string) => void): Promise<void> {
    const res = await this.client.raw('/images/create', { method: 'POST', query: { fromImage: ref } });
    await readJsonLines(res, (l) => l.status && onStatus(l.status), `pull ${ref}`);
  }

  async push(ref: string, onStatus: (s: string) => void): Promise<void> {
    const res = await this.client.raw(`/images/${encodeURIComponent(ref)}/push`, { method: 'POST' });
    await readJsonLines(res, (l) => l.status && onStatus(l.status), `push ${ref}`);
  }

  async removeImage(ref: string): Promise<void> {
    await this.client.call(`/images/${encodeURIComponent(ref)}`, { method: 'DELETE' });
  }
}
