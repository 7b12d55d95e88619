// The Engine API calls of the stack commands (Docker API v1.50 shapes: /services, /tasks, /secrets,
// /configs, /networks), one small typed function each, over the CLI's daemon client.
import type { Client } from '../client.js';
import type { Config, Secret, Service, ServiceSpec, Task } from '../../api/swarm.js';
import { LABELS } from '../../api/swarm-labels.js';
import type { StackNetwork } from './convert.js';
import type { ContentSpec } from './plan.js';

export interface NetworkSummary {
  Id: string;
  Name: string;
  Scope: string;
  Labels?: Record<string, string>;
}

const q = (filters: Record<string, string[]>): string => JSON.stringify(filters);
export const namespaceFilter = (stack: string): Record<string, string[]> => ({ label: [`${LABELS.stackNamespace}=${stack}`] });

/** An error of the daemon's with its HTTP status (DaemonError), by shape so tests need no client. */
export const isNotFound = (e: unknown): boolean => (e as { status?: unknown }).status === 404;

export class StackDaemon {
  constructor(private readonly c: Client) {}

  services(filters: Record<string, string[]> = {}, status = false): Promise<Service[]> {
    return this.c.call<Service[]>('/services', { query: { filters: q(filters), status: status ? 'true' : undefined } });
  }
  stackServices(stack: string, status = false): Promise<Service[]> {
    return this.services(namespaceFilter(stack), status).then((all) => all.filter((s) => s.Spec.Labels?.[LABELS.stackNamespace] === stack));
  }
  createService(spec: ServiceSpec, headers: Record<string, string>): Promise<{ ID: string; Warnings?: string[] | null }> {
    return this.c.call('/services/create', { method: 'POST', body: spec, headers });
  }
  updateService(id: string, version: number, spec: ServiceSpec, headers: Record<string, string>): Promise<{ Warnings?: string[] | null } | undefined> {
    return this.c.call(`/services/${encodeURIComponent(id)}/update`, { method: 'POST', query: { version }, body: spec, headers });
  }
  removeService(id: string): Promise<void> {
    return this.c.call(`/services/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }
  tasks(filters: Record<string, string[]>): Promise<Task[]> {
    return this.c.call<Task[]>('/tasks', { query: { filters: q(filters) } });
  }
  nodes(): Promise<{ ID: string; Description?: { Hostname?: string } }[]> {
    return this.c.call('/nodes');
  }

  networks(filters: Record<string, string[]> = {}): Promise<NetworkSummary[]> {
    return this.c.call<NetworkSummary[]>('/networks', { query: { filters: q(filters) } });
  }
  stackNetworks(stack: string): Promise<NetworkSummary[]> {
    return this.networks(namespaceFilter(stack)).then((all) => all.filter((n) => n.Labels?.[LABELS.stackNamespace] === stack));
  }
  /** undefined when the daemon has no such network. */
  async network(name: string): Promise<NetworkSummary | undefined> {
    try {
      return await this.c.call<NetworkSummary>(`/networks/${encodeURIComponent(name)}`);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
  createNetwork(body: StackNetwork): Promise<{ Id: string }> {
    return this.c.call('/networks/create', { method: 'POST', body });
  }
  removeNetwork(id: string): Promise<void> {
    return this.c.call(`/networks/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  secrets(filters: Record<string, string[]> = {}): Promise<Secret[]> {
    return this.c.call<Secret[]>('/secrets', { query: { filters: q(filters) } });
  }
  configs(filters: Record<string, string[]> = {}): Promise<Config[]> {
    return this.c.call<Config[]>('/configs', { query: { filters: q(filters) } });
  }
  createObject(kind: 'secret' | 'config', spec: ContentSpec): Promise<{ ID: string }> {
    return this.c.call(`/${kind}s/create`, { method: 'POST', body: spec });
  }
  updateObject(kind: 'secret' | 'config', id: string, version: number, spec: ContentSpec): Promise<void> {
    return this.c.call(`/${kind}s/${encodeURIComponent(id)}/update`, { method: 'POST', query: { version }, body: spec });
  }
  removeObject(kind: 'secret' | 'config', id: string): Promise<void> {
    return this.c.call(`/${kind}s/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** The digest the registry serves for an image (GET /distribution/{name}/json). */
  async digest(image: string, headers: Record<string, string>): Promise<string | undefined> {
    const r = await this.c.call<{ Descriptor?: { digest?: string } }>(`/distribution/${image}/json`, { headers });
    return r?.Descriptor?.digest;
  }
}

/** What deploy and rm use of the daemon: the seam their tests stand an in-memory swarm in. */
export type StackApi = Pick<
  StackDaemon,
  | 'stackServices'
  | 'stackNetworks'
  | 'network'
  | 'secrets'
  | 'configs'
  | 'createNetwork'
  | 'removeNetwork'
  | 'createObject'
  | 'updateObject'
  | 'removeObject'
  | 'createService'
  | 'updateService'
  | 'removeService'
  | 'digest'
>;
