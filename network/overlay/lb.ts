// Service VIP load balancing without IPVS: in each task container's network namespace one nftables
// table, and per VIP a map of SLOTS entries filled round-robin with the service's backends, used by
// `ip daddr VIP dnat to numgen random mod SLOTS map @…`. Backends change by replacing map elements in
// one transaction (no rule rebuild, no flush of established flows' conntrack). Pure planning here;
// `applyLb` runs the script in the namespace.
import { nftApply } from '../exec.js';

export const LB_TABLE = 'tsswarm_lb';
export const SLOTS = 256;

export interface Vip {
  vip: string;
  backends: readonly string[];
}

/** slot → backend, round-robin over the backends sorted (stable across nodes and passes). */
export function slots(backends: readonly string[]): string[] {
  const b = [...new Set(backends)].sort();
  return b.length ? Array.from({ length: SLOTS }, (_, i) => b[i % b.length]!) : [];
}

const mapName = (vip: string): string => `vip_${vip.replace(/\./g, '_')}`;

/** What is programmed in one namespace: VIP → its slots. */
export type LbState = Map<string, string[]>;

/**
 * The nft script from `state` to `wanted`. A new table or a removed VIP rebuilds the table whole (rare:
 * a service joining or leaving the network); otherwise only the changed slots of the maps are rewritten.
 * Returns the new state with the script.
 */
export function lbScript(state: LbState | undefined, wanted: readonly Vip[]): { script: string; next: LbState } {
  const next: LbState = new Map(wanted.map((v) => [v.vip, slots(v.backends)]));
  const removed = state ? [...state.keys()].some((k) => !next.has(k)) : false;
  if (!state || removed) {
    // `table` then `delete table`: removes it whether or not it existed, in the same transaction.
    if (next.size === 0) return { script: state ? `table ip ${LB_TABLE}\ndelete table ip ${LB_TABLE}\n` : '', next };
    const lines = [`table ip ${LB_TABLE}`, `delete table ip ${LB_TABLE}`, `table ip ${LB_TABLE} {`];
    const empty = [...next].filter(([, s]) => s.length === 0).map(([vip]) => vip);
    // VIPs with no running task: refused at once (host unreachable) instead of left to time out.
    lines.push('  set empty {', '    type ipv4_addr', ...(empty.length ? [`    elements = { ${empty.join(', ')} }`] : []), '  }');
    lines.push('  chain guard {', '    type filter hook output priority 0; policy accept;', '    ip daddr @empty reject with icmp type host-unreachable', '  }');
    for (const [vip, s] of next) {
      lines.push(`  map ${mapName(vip)} {`, `    typeof numgen random mod ${SLOTS} : ip daddr`);
      if (s.length) lines.push(`    elements = { ${s.map((ip, i) => `${i} : ${ip}`).join(', ')} }`);
      lines.push('  }');
    }
    lines.push('  chain out {', '    type nat hook output priority -100; policy accept;');
    for (const vip of next.keys()) lines.push(`    ip daddr ${vip} dnat to numgen random mod ${SLOTS} map @${mapName(vip)}`);
    lines.push('  }', '}');
    return { script: `${lines.join('\n')}\n`, next };
  }
  const lines: string[] = [];
  for (const [vip, s] of next) {
    const before = state.get(vip);
    const wasEmpty = !before || before.length === 0;
    if (wasEmpty && s.length === 0 && !before) lines.push(`add element ip ${LB_TABLE} empty { ${vip} }`);
    else if (wasEmpty && s.length > 0 && before) lines.push(`delete element ip ${LB_TABLE} empty { ${vip} }`);
    else if (!wasEmpty && s.length === 0) lines.push(`add element ip ${LB_TABLE} empty { ${vip} }`);
    if (!before) {
      // A VIP new to an existing table: its map and rule are added.
      lines.push(`add map ip ${LB_TABLE} ${mapName(vip)} { typeof numgen random mod ${SLOTS} : ip daddr; }`);
      if (s.length) lines.push(`add element ip ${LB_TABLE} ${mapName(vip)} { ${s.map((ip, i) => `${i} : ${ip}`).join(', ')} }`);
      lines.push(`add rule ip ${LB_TABLE} out ip daddr ${vip} dnat to numgen random mod ${SLOTS} map @${mapName(vip)}`);
      continue;
    }
    const gone = before.map((_, i) => i).filter((i) => s[i] === undefined);
    const changed = s.map((ip, i) => [i, ip] as const).filter(([i, ip]) => before[i] !== ip);
    const del = [...gone, ...changed.filter(([i]) => before[i] !== undefined).map(([i]) => i)];
    if (del.length) lines.push(`delete element ip ${LB_TABLE} ${mapName(vip)} { ${del.join(', ')} }`);
    if (changed.length) lines.push(`add element ip ${LB_TABLE} ${mapName(vip)} { ${changed.map(([i, ip]) => `${i} : ${ip}`).join(', ')} }`);
  }
  return { script: lines.length ? `${lines.join('\n')}\n` : '', next };
}

export async function applyLb(netnsPath: string, script: string): Promise<void> {
  if (script) await nftApply(script, netnsPath);
}
