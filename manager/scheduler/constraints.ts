// Placement constraints (`node.labels.zone==a`) and spread preferences (`spread=node.labels.zone`):
// parsing with errors that name the bad expression, and matching against a node. The grammar and the
// matching rules are Docker's (SwarmKit's manager/constraint): keys are case-insensitive, values are
// compared case-insensitively, label names exactly, and a node without the label reads as "" (so
// `node.labels.x!=y` holds on it and `node.labels.x==y` does not).
import { BlockList, isIP } from 'node:net';
import { InvalidArgumentError } from '../../lib/errors.js';
import type { SchedNode } from './types.js';

export type ConstraintKey =
  | { kind: 'node.id' }
  | { kind: 'node.hostname' }
  | { kind: 'node.ip' }
  | { kind: 'node.role' }
  | { kind: 'node.platform.os' }
  | { kind: 'node.platform.arch' }
  | { kind: 'node.labels'; label: string }
  | { kind: 'engine.labels'; label: string };

export interface Constraint {
  /** The expression as written, for messages. */
  expr: string;
  key: ConstraintKey;
  op: '==' | '!=';
  /** The value, lower-cased: matching ignores case as Docker's does. */
  value: string;
  /** `node.ip`: the address or subnet the value names. */
  ip?: BlockList;
}

const NODE_LABELS = 'node.labels.';
const ENGINE_LABELS = 'engine.labels.';
const FIXED_KEYS = ['node.id', 'node.hostname', 'node.ip', 'node.role', 'node.platform.os', 'node.platform.arch'] as const;
const ALLOWED_KEYS = `${FIXED_KEYS.join(', ')}, ${NODE_LABELS}<label>, ${ENGINE_LABELS}<label>`;

// Docker's character sets: a key is a name; a value may not hold operator characters (<, >, ~, =, !).
const KEY_RE = /^[a-z_][a-z0-9\-_.]+$/i;
const VALUE_RE = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i;

function labelKey(key: string, prefix: string): string | undefined {
  if (key.length <= prefix.length || key.slice(0, prefix.length).toLowerCase() !== prefix) return undefined;
  return key.slice(prefix.length);
}

function parseKey(key: string): ConstraintKey | undefined {
  const lower = key.toLowerCase();
  for (const k of FIXED_KEYS) if (lower === k) return { kind: k };
  const nl = labelKey(key, NODE_LABELS);
  if (nl !== undefined) return { kind: 'node.labels', label: nl };
  const el = labelKey(key, ENGINE_LABELS);
  if (el !== undefined) return { kind: 'engine.labels', label: el };
  return undefined;
}

/**
 * Parses placement constraints. `where` names the field in messages (e.g.
 * `TaskTemplate.Placement.Constraints`); each error names the expression's index and text and says
 * what would be right.
 */
export function parseConstraints(exprs: readonly string[], where = 'constraint'): Constraint[] {
  return exprs.map((expr, i) => {
    const bad = (why: string) => new InvalidArgumentError(`invalid ${where}[${i}] "${expr}": ${why}`);
    const eq = expr.indexOf('==');
    const ne = expr.indexOf('!=');
    // Docker looks for `==` first: `a!=b==c` is the key `a!=b`, refused below as a bad key.
    const at = eq >= 0 ? eq : ne;
    if (at < 0) throw bad('expected KEY==VALUE or KEY!=VALUE');
    const op = eq >= 0 ? '==' : '!=';
    const rawKey = expr.slice(0, at).trim();
    const value = expr.slice(at + 2).trim();
    if (!KEY_RE.test(rawKey)) throw bad(`key "${rawKey}" is invalid; the key is one of ${ALLOWED_KEYS}`);
    const key = parseKey(rawKey);
    if (!key) throw bad(`unknown key "${rawKey}"; the key is one of ${ALLOWED_KEYS}`);
    if (!VALUE_RE.test(value)) {
      throw bad(`value "${value}" is invalid; a value is letters, digits, spaces and : - _ . * ( ) ? + [ ] \\ ^ $ | /`);
    }
    if (key.kind === 'node.ip') {
      const ip = ipMatcher(value);
      if (!ip) throw bad(`value "${value}" is not an IP address or a CIDR subnet (e.g. 10.0.0.5 or 10.0.0.0/24)`);
      return { expr, key, op, value: value.toLowerCase(), ip };
    }
    return { expr, key, op, value: value.toLowerCase() };
  });
}

const family = (addr: string): 'ipv4' | 'ipv6' | undefined => {
  const v = isIP(addr);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
};

/** `10.0.0.5` or `10.0.0.0/24` (IPv6 too) as a set to test addresses against; undefined when neither. */
function ipMatcher(value: string): BlockList | undefined {
  const slash = value.indexOf('/');
  const addr = slash < 0 ? value : value.slice(0, slash);
  const fam = family(addr);
  if (!fam) return undefined;
  const list = new BlockList();
  if (slash < 0) {
    list.addAddress(addr, fam);
    return list;
  }
  const bits = value.slice(slash + 1);
  const prefix = Number(bits);
  if (!/^\d+$/.test(bits) || prefix > (fam === 'ipv4' ? 32 : 128)) return undefined;
  list.addSubnet(addr, prefix, fam);
  return list;
}

/** A node whose address is unknown or unreadable is in no subnet (so `!=` holds), as in Docker. */
function ipWithin(addr: string, list: BlockList): boolean {
  const fam = family(addr);
  return fam !== undefined && list.check(addr, fam);
}

/** The node's value for a constraint key or spread descriptor; "" when it has none. */
export function nodeValue(node: SchedNode, key: ConstraintKey): string {
  switch (key.kind) {
    case 'node.id':
      return node.id;
    case 'node.hostname':
      return node.hostname;
    case 'node.ip':
      return node.addr;
    case 'node.role':
      return node.role;
    case 'node.platform.os':
      return node.platform.os;
    case 'node.platform.arch':
      return node.platform.arch;
    case 'node.labels':
      return node.labels[key.label] ?? '';
    case 'engine.labels':
      return node.engineLabels[key.label] ?? '';
  }
}

/** True when the node satisfies every constraint. */
export function matchesConstraints(node: SchedNode, constraints: readonly Constraint[]): boolean {
  for (const c of constraints) {
    const equal = c.ip ? ipWithin(node.addr, c.ip) : nodeValue(node, c.key).toLowerCase() === c.value;
    if (equal !== (c.op === '==')) return false;
  }
  return true;
}

/** A spread preference: tasks spread evenly over the values of the descriptor. */
export interface SpreadPreference {
  descriptor: string;
  key: Extract<ConstraintKey, { kind: 'node.labels' | 'engine.labels' }>;
}

export type PreferenceInput = string | { Spread?: { SpreadDescriptor?: string } | null };

/**
 * Parses placement preferences, either as the CLI writes them (`spread=node.labels.zone`) or as the
 * API carries them (`{ Spread: { SpreadDescriptor: 'node.labels.zone' } }`). Spreading is over node or
 * engine labels only, as Docker documents.
 */
export function parsePreferences(prefs: readonly PreferenceInput[], where = 'placement preference'): SpreadPreference[] {
  return prefs.map((p, i) => {
    let descriptor: string;
    const shown = typeof p === 'string' ? p : JSON.stringify(p);
    const bad = (why: string) => new InvalidArgumentError(`invalid ${where}[${i}] ${shown}: ${why}`);
    if (typeof p === 'string') {
      const eq = p.indexOf('=');
      const strategy = eq < 0 ? '' : p.slice(0, eq).trim();
      if (strategy.toLowerCase() !== 'spread') throw bad('expected spread=node.labels.<label> or spread=engine.labels.<label> (spread is the only strategy)');
      descriptor = p.slice(eq + 1).trim();
    } else {
      const d = p?.Spread?.SpreadDescriptor;
      if (typeof d !== 'string') throw bad('expected { Spread: { SpreadDescriptor: "node.labels.<label>" } } (Spread is the only strategy)');
      descriptor = d.trim();
    }
    const nl = labelKey(descriptor, NODE_LABELS);
    if (nl !== undefined) return { descriptor, key: { kind: 'node.labels', label: nl } };
    const el = labelKey(descriptor, ENGINE_LABELS);
    if (el !== undefined) return { descriptor, key: { kind: 'engine.labels', label: el } };
    throw bad(`spread descriptor "${descriptor}" is not node.labels.<label> or engine.labels.<label>`);
  });
}

/** Checks a Placement's constraints and preferences, as the control API does before accepting a spec. */
export function validatePlacement(
  placement: { Constraints?: string[] | null; Preferences?: PreferenceInput[] | null } | null | undefined,
  where = 'Placement',
): void {
  parseConstraints(placement?.Constraints ?? [], `${where}.Constraints`);
  parsePreferences(placement?.Preferences ?? [], `${where}.Preferences`);
}
