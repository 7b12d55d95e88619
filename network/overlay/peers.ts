// What a node programmes on an overlay's VXLAN device for the endpoints on other nodes: one permanent
// FDB entry (MAC → the node's underlay address) and one permanent neighbour entry (IP → MAC) each, so
// the device never floods and never learns, and ARP is answered locally (`proxy`). Pure: a diff of
// the wanted peers against what is programmed, as `ip -batch` lines.
export interface Peer {
  ip: string;
  mac: string;
  /** The underlay address of the node the endpoint is on. */
  nodeAddr: string;
}

const key = (p: Peer): string => `${p.ip} ${p.mac} ${p.nodeAddr}`;

export interface PeerPlan {
  add: Peer[];
  remove: Peer[];
}

export function planPeers(current: readonly Peer[], wanted: readonly Peer[]): PeerPlan {
  const have = new Map(current.map((p) => [key(p), p]));
  const want = new Map(wanted.map((p) => [key(p), p]));
  return {
    add: [...want].filter(([k]) => !have.has(k)).map(([, p]) => p),
    remove: [...have].filter(([k]) => !want.has(k)).map(([, p]) => p),
  };
}

/** The plan as `ip -batch` lines (removals first: a moved endpoint's entry is replaced, not doubled). */
export function peerScript(vxlan: string, plan: PeerPlan): string {
  const lines: string[] = [];
  for (const p of plan.remove) {
    lines.push(`neigh del ${p.ip} lladdr ${p.mac} dev ${vxlan}`);
    lines.push(`fdb del ${p.mac} dev ${vxlan} dst ${p.nodeAddr} self`);
  }
  for (const p of plan.add) {
    lines.push(`neigh replace ${p.ip} lladdr ${p.mac} dev ${vxlan} nud permanent`);
    lines.push(`fdb append ${p.mac} dev ${vxlan} dst ${p.nodeAddr} self permanent`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * The peers a VXLAN device holds, from `bridge -j fdb show dev VX` and `ip -j neigh show dev VX`
 * (after a daemon restart the kernel keeps them, and the next plan must start from what is there,
 * or endpoints gone meanwhile would stay programmed). An FDB entry pairs with the neighbour entry of
 * its MAC; the bridge's own and the all-zero flood entries have no neighbour and are not peers.
 */
export function programmedPeers(fdbJson: string, neighJson: string): Peer[] {
  const fdb = JSON.parse(fdbJson || '[]') as { mac?: string; dst?: string }[];
  const neigh = JSON.parse(neighJson || '[]') as { dst?: string; lladdr?: string }[];
  const ipOf = new Map(neigh.filter((n) => n.dst && n.lladdr).map((n) => [n.lladdr!, n.dst!]));
  const out: Peer[] = [];
  for (const f of fdb) {
    const ip = f.mac ? ipOf.get(f.mac) : undefined;
    if (ip && f.dst) out.push({ ip, mac: f.mac!, nodeAddr: f.dst });
  }
  return out;
}
