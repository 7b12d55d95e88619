// The routing mesh on one node, without IPVS: a published port answers on every address of the node
// and is forwarded, spread by numgen maps like the VIPs (lb.ts), to the service's tasks on the ingress
// overlay — on this node or any other — through the node's own endpoint on that overlay, masqueraded
// so replies come back the same way. The table is rebuilt as a whole, atomically, when ports or
// backends change. Pure: the nft script.
import { slots, SLOTS } from './lb.js';

export const INGRESS_TABLE = 'tsswarm_ingress';

export interface IngressPort {
  protocol: 'tcp' | 'udp' | 'sctp';
  port: number;
  targetPort: number;
  backends: readonly string[];
  /**
   * Keep the client's address (moby#25526): forwarded only to this node's own tasks (`backends` are
   * those) and not masqueraded; the reply goes back through this node's conntrack entry.
   */
  local?: boolean;
}

/** Connection mark of flows the mesh must not masquerade (a port with `local`). */
export const KEEP_SOURCE_MARK = '0x7473';

export function ingressScript(sandboxIf: string, ports: readonly IngressPort[]): string {
  const head = [`table ip ${INGRESS_TABLE}`, `delete table ip ${INGRESS_TABLE}`];
  if (ports.length === 0) return `${head.join('\n')}\n`;
  const lines = [...head, `table ip ${INGRESS_TABLE} {`];
  const rules: string[] = [];
  for (const p of ports) {
    const map = `p_${p.protocol}_${p.port}`;
    const s = slots(p.backends);
    lines.push(`  map ${map} {`, `    typeof numgen random mod ${SLOTS} : ip daddr . ${p.protocol} dport`);
    if (s.length) lines.push(`    elements = { ${s.map((ip, i) => `${i} : ${ip} . ${p.targetPort}`).join(', ')} }`);
    lines.push('  }');
    // No task running: refused at once rather than left to time out.
    const keep = p.local ? `ct mark set ${KEEP_SOURCE_MARK} ` : '';
    rules.push(s.length ? `fib daddr type local ${p.protocol} dport ${p.port} ${keep}dnat ip to numgen random mod ${SLOTS} map @${map}` : `fib daddr type local ${p.protocol} dport ${p.port} drop`);
  }
  lines.push('  chain pre {', '    type nat hook prerouting priority dstnat; policy accept;', ...rules.map((r) => `    ${r}`), '  }');
  lines.push('  chain out {', '    type nat hook output priority -100; policy accept;', ...rules.map((r) => `    ${r}`), '  }');
  lines.push('  chain post {', '    type nat hook postrouting priority srcnat; policy accept;', `    oifname "${sandboxIf}" ct mark ${KEEP_SOURCE_MARK} accept`, `    oifname "${sandboxIf}" masquerade`, '  }', '}');
  return `${lines.join('\n')}\n`;
}
