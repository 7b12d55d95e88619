// A linearisability checker for the KV history: Wing & Gong's search for a legal sequential order
// consistent with real time, with Lowe's memoisation of (linearised set, state) pairs, run per key
// (P-compositionality: a history is linearisable iff each key's sub-history is).

export type OpKind = 'put' | 'append' | 'get';

export interface HistoryOp {
  client: number;
  key: string;
  kind: OpKind;
  /** Written value for put/append; the value read for get. */
  value: string;
  call: number;
  /** Infinity for an operation whose outcome is unknown (it may or may not have taken effect). */
  ret: number;
}

export type CheckResult = { ok: true } | { ok: false; key: string; ops: HistoryOp[]; reason: string };

interface Node {
  op: number; // index into ops
  isCall: boolean;
  match: Node | undefined; // call → its return
  prev: Node | undefined;
  next: Node | undefined;
}

function step(state: string, op: HistoryOp): string | undefined {
  switch (op.kind) {
    case 'put':
      return op.value;
    case 'append':
      return state + op.value;
    case 'get':
      return op.value === state ? state : undefined;
  }
}

/** Checks one key's history; `budget` bounds the search so a pathological history cannot hang a test. */
function checkKey(ops: HistoryOp[], budget: number): 'ok' | 'fail' | 'unknown' {
  type Ev = { t: number; isCall: boolean; op: number };
  const evs: Ev[] = [];
  ops.forEach((o, i) => {
    evs.push({ t: o.call, isCall: true, op: i });
    evs.push({ t: o.ret, isCall: false, op: i });
  });
  // At equal times calls go first: touching intervals are treated as concurrent (never a false alarm).
  evs.sort((a, b) => a.t - b.t || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));

  const head: Node = { op: -1, isCall: false, match: undefined, prev: undefined, next: undefined };
  let tail = head;
  const calls = new Map<number, Node>();
  for (const ev of evs) {
    const n: Node = { op: ev.op, isCall: ev.isCall, match: undefined, prev: tail, next: undefined };
    tail.next = n;
    tail = n;
    if (ev.isCall) calls.set(ev.op, n);
    else (calls.get(ev.op) as Node).match = n;
  }

  const lift = (c: Node): void => {
    const r = c.match as Node;
    (c.prev as Node).next = c.next;
    if (c.next) c.next.prev = c.prev;
    (r.prev as Node).next = r.next;
    if (r.next) r.next.prev = r.prev;
  };
  const unlift = (c: Node): void => {
    const r = c.match as Node;
    (r.prev as Node).next = r;
    if (r.next) r.next.prev = r;
    (c.prev as Node).next = c;
    if (c.next) c.next.prev = c;
  };

  const words = Math.ceil(ops.length / 32);
  const linearized = new Uint32Array(words);
  const seen = new Set<string>();
  const keyOf = (state: string): string => `${linearized.join(',')}|${state}`;

  let state = '';
  let entry = head.next;
  const stack: Array<{ node: Node; state: string }> = [];
  let work = 0;
  while (head.next !== undefined) {
    if (++work > budget) return 'unknown';
    if (entry === undefined) return 'fail';
    if (entry.isCall) {
      const next = step(state, ops[entry.op]);
      if (next !== undefined) {
        linearized[entry.op >> 5] |= 1 << (entry.op & 31);
        const k = keyOf(next);
        if (!seen.has(k)) {
          seen.add(k);
          stack.push({ node: entry, state });
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[entry.op >> 5] &= ~(1 << (entry.op & 31));
      }
      entry = entry.next;
    } else {
      // A return whose call is not linearised yet: this prefix cannot be extended; backtrack.
      const top = stack.pop();
      if (top === undefined) return 'fail';
      state = top.state;
      linearized[top.node.op >> 5] &= ~(1 << (top.node.op & 31));
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return 'ok';
}

export function checkLinearizable(history: readonly HistoryOp[], budget = 5_000_000): CheckResult {
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of history) {
    // A read with no answer constrains nothing.
    if (op.kind === 'get' && op.ret === Infinity) continue;
    let l = byKey.get(op.key);
    if (!l) byKey.set(op.key, (l = []));
    l.push(op);
  }
  for (const [key, ops] of [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const r = checkKey(ops, budget);
    if (r === 'fail') return { ok: false, key, ops, reason: 'no linearisation exists' };
    if (r === 'unknown') return { ok: false, key, ops, reason: `search budget of ${budget} steps exhausted` };
  }
  return { ok: true };
}

export function formatHistory(ops: readonly HistoryOp[]): string {
  return ops
    .slice()
    .sort((a, b) => a.call - b.call)
    .map((o) => `  c${o.client} ${o.kind}(${o.key}${o.kind === 'get' ? '' : `, ${o.value}`})${o.kind === 'get' ? ` -> "${o.value}"` : ''} [${o.call}, ${o.ret === Infinity ? '?' : o.ret}]`)
    .join('\n');
}
