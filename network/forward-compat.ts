// Living beside dockerd: dockerd sets the iptables `filter` FORWARD policy to DROP (with br_netfilter
// on, bridged frames pass it too). A packet must be accepted by every base chain at its hook, so the
// accepts in our own nftables table do not help; our bridges' traffic must also be accepted there.
// We add narrow accept rules, tagged with a comment that names our table, to DOCKER-USER when it exists
// (dockerd jumps there first and never flushes it) or else to FORWARD, and remove exactly those.
//
// Writes go through iptables-restore --noflush (one exec per operation), never raw nft rules: the
// iptables-nft backend refuses to list a table holding rules it cannot parse, which would break
// dockerd's own iptables calls. Reads of whether the table exists use nft, which creates nothing
// (`iptables -S` on a host without the table would still print a default policy).
import { run } from './exec.js';

export type Family = 'ip' | 'ip6';

const TOOL: Record<Family, { save: string; restore: string }> = {
  ip: { save: 'iptables', restore: 'iptables-restore' },
  ip6: { save: 'ip6tables', restore: 'ip6tables-restore' },
};

/** The comment on each of our rules: `tsswarm:<tag>:<bridge>`. */
export function ruleComment(tag: string, bridge: string): string {
  return `tsswarm:${tag}:${bridge}`;
}

/** The rules that let one bridge's traffic through a DROP policy, and nothing else. */
export function rulesFor(chain: string, tag: string, bridge: string): string[] {
  const c = `-m comment --comment "${ruleComment(tag, bridge)}"`;
  return [
    // From our containers: egress, and container to container (isolation between our bridges stays
    // in our own table, which every packet also passes).
    `-A ${chain} -i ${bridge} ${c} -j ACCEPT`,
    // To our containers: replies, and published ports (DNATed flows).
    `-A ${chain} -o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED ${c} -j ACCEPT`,
    `-A ${chain} -o ${bridge} -m conntrack --ctstate DNAT ${c} -j ACCEPT`,
  ];
}

export interface ChainState {
  /** The chain our rules belong in (DOCKER-USER when it exists, else FORWARD). */
  target: string;
  /** `iptables -S` lines of FORWARD and DOCKER-USER (when present). */
  lines: string[];
}

/**
 * What to change so that exactly `bridges` have our rules in `state.target`: stale or misplaced rules
 * of ours (same tag) are deleted; missing ones are inserted at the top of the chain, ahead of any DROP.
 * Pure; the lines are for iptables-restore --noflush.
 */
export function planSync(state: ChainState, tag: string, bridges: readonly string[]): string[] {
  const mark = new RegExp(`--comment "?tsswarm:${tag.replace(/[^A-Za-z0-9_]/g, '\\$&')}:`);
  const ours = state.lines.filter((l) => l.startsWith('-A ') && mark.test(l));
  const want = new Set(bridges.flatMap((b) => rulesFor(state.target, tag, b)));
  const have = new Set(ours.map(normalise));
  const out: string[] = [];
  for (const l of ours) if (!want.has(normalise(l))) out.push(`-D${l.slice(2)}`);
  // -I puts each at position 1: insert in reverse so the chain reads in rulesFor's order.
  const missing = [...want].filter((w) => !have.has(w));
  for (const w of missing.reverse()) out.push(`-I${w.slice(2)}`);
  return out;
}

// iptables -S prints comments quoted only when they need quotes; compare in one form.
function normalise(line: string): string {
  return line.replace(/--comment (?!")(\S+)/, '--comment "$1"');
}

export class ForwardCompat {
  constructor(
    private readonly tag: string,
    private readonly netns?: string,
  ) {}

  /** Families whose iptables `filter` table has a FORWARD chain, with where our rules go. */
  async chains(): Promise<Map<Family, ChainState>> {
    const out = new Map<Family, ChainState>();
    let tables: string;
    try {
      tables = await run('nft', ['list', 'tables'], { netns: this.netns });
    } catch {
      return out; // no nft here: nothing of iptables-nft to live beside
    }
    for (const family of ['ip', 'ip6'] as const) {
      if (!new RegExp(`^table ${family} filter$`, 'm').test(tables)) continue;
      const tool = TOOL[family].save;
      let forward: string;
      try {
        forward = await run(tool, ['-w', '-S', 'FORWARD'], { netns: this.netns });
      } catch {
        continue; // the table exists without a FORWARD chain, or the tool is missing
      }
      let dockerUser: string | undefined;
      try {
        dockerUser = await run(tool, ['-w', '-S', 'DOCKER-USER'], { netns: this.netns });
      } catch {
        dockerUser = undefined;
      }
      out.set(family, {
        target: dockerUser === undefined ? 'FORWARD' : 'DOCKER-USER',
        lines: [...forward.split('\n'), ...(dockerUser ?? '').split('\n')].filter(Boolean),
      });
    }
    return out;
  }

  /** Makes our rules match `bridges` in every family that has a filter FORWARD chain. */
  async sync(bridges: readonly string[]): Promise<void> {
    for (const [family, state] of await this.chains()) {
      const lines = planSync(state, this.tag, bridges);
      if (lines.length === 0) continue;
      await run(TOOL[family].restore, ['-w', '--noflush'], { input: `*filter\n${lines.join('\n')}\nCOMMIT\n`, netns: this.netns });
    }
  }

  /** Removes every rule of ours (daemon teardown, last network gone). */
  removeAll(): Promise<void> {
    return this.sync([]);
  }
}
