// Engine API views of a container record: `GET /containers/{id}/json` and `GET /containers/json`.
import type { Endpoint } from '../network/manager.js';
import type { PortMapping } from './ports.js';
import type { ContainerRecord } from '../agent/containers/record.js';

export interface LiveInfo {
  endpoints: Endpoint[];
  ports: PortMapping[];
  imageName: string;
}

function portMap(c: ContainerRecord, ports: PortMapping[]): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const k of Object.keys(c.Config.ExposedPorts)) out[k] = null;
  for (const m of ports) {
    const k = `${m.containerPort}/${m.proto}`;
    (out[k] ??= []).push({ HostIp: m.hostIp, HostPort: String(m.hostPort) });
  }
  return out;
}

export function inspectView(c: ContainerRecord, live: LiveInfo): Record<string, unknown> {
  const s = c.State.Status;
  const networks: Record<string, unknown> = {};
  for (const e of live.endpoints) {
    networks[e.networkName] = {
      Aliases: c.Networks[e.networkName]?.Aliases ?? null,
      NetworkID: e.networkId,
      EndpointID: e.endpointId,
      Gateway: e.gateway,
      IPAddress: e.ip,
      IPPrefixLen: e.prefix,
      MacAddress: e.mac,
    };
  }
  const first = live.endpoints[0];
  return {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: {
      Status: s,
      Running: s === 'running' || s === 'paused',
      Paused: s === 'paused',
      Restarting: s === 'restarting',
      OOMKilled: c.State.OOMKilled,
      Dead: s === 'dead',
      Pid: c.State.Pid,
      ExitCode: c.State.ExitCode,
      Error: c.State.Error,
      StartedAt: c.State.StartedAt,
      FinishedAt: c.State.FinishedAt,
      ...(c.State.Health ? { Health: c.State.Health } : {}),
    },
    Image: c.Image,
    Name: `/${c.Name}`,
    RestartCount: c.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    HostConfig: c.HostConfig,
    Mounts: c.Mounts.map((m) => ({
      Type: m.Type,
      ...(m.Name ? { Name: m.Name, Driver: 'local' } : {}),
      Source: m.Source,
      Destination: m.Destination,
      Mode: m.Mode,
      RW: m.RW,
      Propagation: m.Propagation,
    })),
    Config: { ...c.Config, Image: live.imageName, Entrypoint: c.Config.Entrypoint, Cmd: c.Config.Cmd },
    NetworkSettings: {
      Ports: portMap(c, live.ports),
      IPAddress: first?.ip ?? '',
      IPPrefixLen: first?.prefix ?? 0,
      Gateway: first?.gateway ?? '',
      MacAddress: first?.mac ?? '',
      Networks: networks,
    },
  };
}

export function summaryView(c: ContainerRecord, live: LiveInfo): Record<string, unknown> {
  const cmd = [c.Path, ...c.Args].join(' ');
  return {
    Id: c.Id,
    Names: [`/${c.Name}`],
    Image: live.imageName,
    ImageID: c.Image,
    Command: cmd,
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: live.ports.map((m) => ({ IP: m.hostIp, PrivatePort: m.containerPort, PublicPort: m.hostPort, Type: m.proto })),
    Labels: c.Config.Labels,
    State: c.State.Status,
    Status: '',
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode ?? 'bridge' },
    NetworkSettings: {
      Networks: Object.fromEntries(live.endpoints.map((e) => [e.networkName, { IPAddress: e.ip, NetworkID: e.networkId, EndpointID: e.endpointId, Gateway: e.gateway }])),
    },
    Mounts: c.Mounts.map((m) => ({ Type: m.Type, Name: m.Name ?? '', Source: m.Source, Destination: m.Destination, RW: m.RW })),
    // Not in Docker's summary, but lets the CLI print the STATUS column without a second call.
    StateDetail: c.State,
  };
}
