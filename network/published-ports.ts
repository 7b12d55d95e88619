// Published ports (-p): choosing host ports, holding a host socket on each, and their DNAT entries
// in our nftables table. The records live in the manager's state (`published`); this module keeps
// the kernel and the socket holds in step with them.

import { NetworkError } from './errors.js';
import type { NftPort, NftTable } from './nft.js';
import { PortInUseError, type PortHold, type PortReserver } from './ports-host.js';
import { bindingsClash, candidatePorts, mappingKey, portInUseMessage, type PortMapping, type PortRequest } from './ports.js';
import type { ManagerState } from './state.js';

export function nftPortOf(m: PortMapping, containerIp: string): NftPort {
  return { proto: m.proto, hostIp: m.hostIp, hostPort: m.hostPort, containerIp, containerPort: m.containerPort };
}

export interface PortPublisherOptions {
  nft: NftTable;
  reserve: PortReserver;
  ephemeralRange: readonly [number, number];
  /** The manager's current state (it is replaced whole on teardown). */
  state: () => ManagerState;
  /** Persists the state after a change. */
  save: () => void;
  log: (msg: string) => void;
}

export class PortPublisher {
  private readonly holds = new Map<string, PortHold>();
  private cursor: number;

  constructor(private readonly o: PortPublisherOptions) {
    this.cursor = o.ephemeralRange[0];
  }

  /** All or nothing: any taken port fails the whole call and nothing is left behind. */
  async publish(containerId: string, containerIp: string, requests: readonly PortRequest[]): Promise<PortMapping[]> {
    const state = this.o.state();
    const existing = state.published[containerId];
    if (existing && existing.containerIp !== containerIp) throw new NetworkError('conflict', `container ${containerId} already publishes ports on ${existing.containerIp}`);

    const taken = Object.values(state.published).flatMap((p) => p.mappings);
    const added: PortMapping[] = [];
    const newHolds: [string, PortHold][] = [];
    try {
      for (const req of requests) added.push(await this.choosePort(req, [...taken, ...added], newHolds));
      await this.o.nft.addPorts(added.map((m) => nftPortOf(m, containerIp)));
    } catch (e) {
      for (const [, h] of newHolds) h.close();
      if (e instanceof NetworkError) throw e;
      throw new NetworkError(e instanceof PortInUseError ? 'conflict' : 'internal', `cannot publish ports of container ${containerId}: ${(e as Error).message}`, { cause: e });
    }
    for (const [k, h] of newHolds) this.holds.set(k, h);
    state.published[containerId] = { containerIp, mappings: [...(existing?.mappings ?? []), ...added] };
    this.o.save();
    return added;
  }

  async unpublish(containerId: string): Promise<void> {
    const state = this.o.state();
    const pub = state.published[containerId];
    if (!pub) return;
    await this.o.nft.removePorts(pub.mappings.map((m) => nftPortOf(m, pub.containerIp)));
    for (const m of pub.mappings) {
      this.holds.get(mappingKey(m))?.close();
      this.holds.delete(mappingKey(m));
    }
    delete state.published[containerId];
    this.o.save();
  }

  /** Every mapping in the state, as nftables entries (for rewriting the table whole). */
  nftPorts(): NftPort[] {
    return Object.values(this.o.state().published).flatMap((p) => p.mappings.map((m) => nftPortOf(m, p.containerIp)));
  }

  /** After a restart: hold the host ports again. A port someone else took stays forwarded, and is logged. */
  async restoreHolds(): Promise<void> {
    for (const p of Object.values(this.o.state().published)) {
      for (const m of p.mappings) {
        try {
          this.holds.set(mappingKey(m), await this.o.reserve(m.proto, m.hostIp, m.hostPort));
        } catch (e) {
          this.o.log(`published port ${mappingKey(m)} is still forwarded but could not be held: ${(e as Error).message}`);
        }
      }
    }
  }

  releaseHolds(): void {
    for (const h of this.holds.values()) h.close();
    this.holds.clear();
  }

  private async choosePort(req: PortRequest, taken: readonly PortMapping[], newHolds: [string, PortHold][]): Promise<PortMapping> {
    const range = this.o.ephemeralRange;
    const any = req.hostPortMin === 0;
    const candidates = candidatePorts(req, this.cursor, range);
    let lastError: Error | undefined;
    for (const port of candidates) {
      const m: PortMapping = { proto: req.proto, containerPort: req.containerPort, hostIp: req.hostIp, hostPort: port };
      const clash = taken.find((t) => bindingsClash(t, m));
      if (clash) {
        lastError = new PortInUseError(portInUseMessage(m, `published by another container as ${mappingKey(clash)}`));
        continue;
      }
      try {
        const hold = await this.o.reserve(m.proto, m.hostIp, m.hostPort);
        newHolds.push([mappingKey(m), hold]);
        if (any) this.cursor = port === range[1] ? range[0] : port + 1;
        return m;
      } catch (e) {
        lastError = e as Error;
        if (!(e instanceof PortInUseError)) break;
      }
    }
    const what = any ? `any free port in ${range[0]}-${range[1]}` : req.hostPortMin === req.hostPortMax ? `${req.hostIp}:${req.hostPortMin}` : `${req.hostIp}:${req.hostPortMin}-${req.hostPortMax}`;
    throw new NetworkError(
      'conflict',
      lastError && candidates.length === 1 ? lastError.message : `no usable host port for ${req.containerPort}/${req.proto} (${what}): ${lastError?.message ?? 'empty range'}`,
      { cause: lastError },
    );
  }
}
