// A small evaluator for the Go text/template subset that `--format` users write:
//   {{.Names}}  {{.State.Status}}  {{json .Config}}  {{index .Config.Labels "k"}}  {{join .Args ","}}
//   {{upper .Name}} {{lower …}} {{title …}} {{split …}} {{printf "%s:%d" .A .B}} {{len …}} {{pad …}}
//   {{truncate …}} {{if …}}…{{else if …}}…{{else}}…{{end}}  {{range …}}…{{else}}…{{end}}
//   {{range $k, $v := .Labels}}  {{with …}}  pipelines (`.Name | upper`), ( … ) sub-pipelines,
//   eq ne lt le gt ge and or not, {{- trimming -}}, {{/* comments */}}.
// Values are JSON-like (objects, arrays, strings, numbers, booleans, null). Printing follows Go's %v
// except that whole numbers print as integers (Go would print JSON numbers as floats).
// Errors carry the position: `template: :LINE:COL: …`.

export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Value = unknown;

// ---- lexing ------------------------------------------------------------------------------------

type Tok =
  | { k: 'field'; path: string[]; pos: number }
  | { k: 'var'; name: string; path: string[]; pos: number }
  | { k: 'dot'; pos: number }
  | { k: 'str'; v: string; pos: number }
  | { k: 'num'; v: number; pos: number }
  | { k: 'ident'; v: string; pos: number }
  | { k: 'punct'; v: '(' | ')' | '|' | ':=' | '=' | ','; pos: number }
  | { k: 'subfield'; path: string[]; pos: number };

interface RawAction {
  toks: Tok[];
  pos: number;
}

type Piece = { t: 'text'; v: string } | { t: 'action'; a: RawAction };

function lineCol(src: string, pos: number): string {
  const before = src.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - (before.lastIndexOf('\n') + 1);
  return `${line}:${col}`;
}

function lex(src: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  const err = (pos: number, msg: string): never => {
    throw new TemplateError(`template: :${lineCol(src, pos)}: ${msg}`);
  };
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      pieces.push({ t: 'text', v: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let j = open + 2;
    if (src.startsWith('- ', j) || src.startsWith('-\t', j) || src.startsWith('-\n', j)) {
      text = text.replace(/\s+$/, '');
      j += 1;
    }
    if (text) pieces.push({ t: 'text', v: text });
    // Comments.
    const afterWs = j + (src.slice(j).match(/^\s*/)?.[0].length ?? 0);
    if (src.startsWith('/*', afterWs)) {
      const end = src.indexOf('*/', afterWs);
      if (end < 0) err(open, 'unclosed comment');
      let k = end + 2;
      let trimRight = false;
      const m = /^\s*(-\s)?\s*}}/.exec(src.slice(k)) ?? /^\s*-}}/.exec(src.slice(k));
      if (!m) err(end, 'comment ends before closing delimiter');
      trimRight = m![0].includes('-');
      k += m![0].length;
      i = trimRight ? skipWs(src, k) : k;
      continue;
    }
    const toks: Tok[] = [];
    let closed = false;
    while (j < src.length) {
      const c = src[j]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        if (src.startsWith('-}}', j + 1) && !/\S/.test(c)) {
          j += 4;
          closed = true;
          i = skipWs(src, j);
          break;
        }
        j++;
        continue;
      }
      if (src.startsWith('}}', j)) {
        j += 2;
        closed = true;
        i = j;
        break;
      }
      const pos = j;
      if (c === '"') {
        let k = j + 1;
        while (k < src.length && src[k] !== '"') {
          if (src[k] === '\\') k++;
          if (src[k] === '\n') err(pos, 'unterminated quoted string');
          k++;
        }
        if (k >= src.length) err(pos, 'unterminated quoted string');
        try {
          toks.push({ k: 'str', v: JSON.parse(src.slice(j, k + 1)) as string, pos });
        } catch {
          err(pos, `invalid quoted string ${src.slice(j, k + 1)}`);
        }
        j = k + 1;
        continue;
      }
      if (c === '`') {
        const k = src.indexOf('`', j + 1);
        if (k < 0) err(pos, 'unterminated raw quoted string');
        toks.push({ k: 'str', v: src.slice(j + 1, k), pos });
        j = k + 1;
        continue;
      }
      if (c === '(' || c === ')' || c === '|' || c === ',' || c === '=') {
        toks.push({ k: 'punct', v: c, pos });
        j++;
        continue;
      }
      if (c === ':' && src[j + 1] === '=') {
        toks.push({ k: 'punct', v: ':=', pos });
        j += 2;
        continue;
      }
      if (c === '.') {
        const m = /^(\.[A-Za-z_][A-Za-z0-9_]*)+/.exec(src.slice(j));
        if (m) {
          const path = m[0].slice(1).split('.');
          const prev = toks[toks.length - 1];
          // `(pipeline).Field`: a field chain glued to a closing parenthesis.
          if (prev && prev.k === 'punct' && prev.v === ')' && prev.pos === j - 1) toks.push({ k: 'subfield', path, pos });
          else toks.push({ k: 'field', path, pos });
          j += m[0].length;
        } else {
          toks.push({ k: 'dot', pos });
          j++;
        }
        continue;
      }
      if (c === '$') {
        const m = /^\$[A-Za-z0-9_]*((\.[A-Za-z_][A-Za-z0-9_]*)*)/.exec(src.slice(j))!;
        const [name, ...path] = m[0].split('.');
        toks.push({ k: 'var', name: name!, path, pos });
        j += m[0].length;
        continue;
      }
      const num = /^-?\d+(\.\d+)?/.exec(src.slice(j));
      if (num && (c !== '-' || /\d/.test(src[j + 1] ?? ''))) {
        toks.push({ k: 'num', v: Number(num[0]), pos });
        j += num[0].length;
        continue;
      }
      const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(j));
      if (id) {
        toks.push({ k: 'ident', v: id[0], pos });
        j += id[0].length;
        continue;
      }
      err(pos, `unexpected "${c}" in command`);
    }
    if (!closed) err(open, 'unclosed action');
    pieces.push({ t: 'action', a: { toks, pos: open } });
  }
  return pieces;
}

function skipWs(src: string, k: number): number {
  while (k < src.length && /\s/.test(src[k]!)) k++;
  return k;
}

// ---- parsing -----------------------------------------------------------------------------------

type Operand =
  | { k: 'field'; path: string[]; pos: number }
  | { k: 'var'; name: string; path: string[]; pos: number }
  | { k: 'dot'; pos: number }
  | { k: 'lit'; v: Value; pos: number }
  | { k: 'fn'; name: string; pos: number }
  | { k: 'sub'; pipe: Pipe; path: string[]; pos: number };

interface Cmd {
  args: Operand[];
  pos: number;
}
interface Pipe {
  decl: string[];
  cmds: Cmd[];
  pos: number;
}

type Node =
  | { t: 'text'; v: string }
  | { t: 'print'; pipe: Pipe }
  | { t: 'if'; pipe: Pipe; then: Node[]; else: Node[] | null }
  | { t: 'with'; pipe: Pipe; then: Node[]; else: Node[] | null }
  | { t: 'range'; pipe: Pipe; body: Node[]; else: Node[] | null };

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly pieces: Piece[],
  ) {}

  err(pos: number, msg: string): never {
    throw new TemplateError(`template: :${lineCol(this.src, pos)}: ${msg}`);
  }

  parseAll(): Node[] {
    const { nodes, stop } = this.list();
    if (stop) this.err(stop.pos, `unexpected {{${stop.word}}}`);
    return nodes;
  }

  /** Parses nodes until {{end}} / {{else…}}; returns which stopped it. */
  private list(): { nodes: Node[]; stop?: { word: 'end' | 'else'; a: RawAction; pos: number } } {
    const nodes: Node[] = [];
    while (this.i < this.pieces.length) {
      const p = this.pieces[this.i++]!;
      if (p.t === 'text') {
        nodes.push({ t: 'text', v: p.v });
        continue;
      }
      const toks = p.a.toks;
      const first = toks[0];
      if (!first) this.err(p.a.pos, 'missing value for command');
      if (first.k === 'ident' && KEYWORDS.has(first.v)) {
        switch (first.v) {
          case 'end':
            return { nodes, stop: { word: 'end', a: p.a, pos: first.pos } };
          case 'else':
            return { nodes, stop: { word: 'else', a: p.a, pos: first.pos } };
          case 'if':
          case 'with':
            nodes.push(this.branch(first.v, p.a));
            continue;
          case 'range':
            nodes.push(this.range(p.a));
            continue;
          default:
            this.err(first.pos, `{{${first.v}}} is not supported here`);
        }
      }
      nodes.push({ t: 'print', pipe: this.pipe(toks, p.a.pos, false) });
    }
    return { nodes };
  }

  private branch(kind: 'if' | 'with', a: RawAction): Node {
    const pipe = this.pipe(a.toks.slice(1), a.pos, kind === 'with');
    const body = this.list();
    if (!body.stop) this.err(a.pos, `unexpected EOF: {{${kind}}} has no {{end}}`);
    let elseNodes: Node[] | null = null;
    if (body.stop.word === 'else') {
      const rest = body.stop.a.toks.slice(1);
      if (rest[0]?.k === 'ident' && (rest[0].v === 'if' || rest[0].v === 'with')) {
        // `{{else if …}}` is an if nested in the else branch, sharing this branch's {{end}}.
        elseNodes = [this.branch(rest[0].v, { toks: rest, pos: body.stop.a.pos })];
      } else {
        if (rest.length > 0) this.err(rest[0]!.pos, 'unexpected tokens after else');
        const e = this.list();
        if (!e.stop || e.stop.word !== 'end') this.err(a.pos, `unexpected EOF: {{${kind}}} has no {{end}}`);
        elseNodes = e.nodes;
      }
    }
    if (kind === 'if') return { t: 'if', pipe, then: body.nodes, else: elseNodes };
    return { t: 'with', pipe, then: body.nodes, else: elseNodes };
  }

  private range(a: RawAction): Node {
    const pipe = this.pipe(a.toks.slice(1), a.pos, true);
    const body = this.list();
    if (!body.stop) this.err(a.pos, 'unexpected EOF: {{range}} has no {{end}}');
    let elseNodes: Node[] | null = null;
    if (body.stop.word === 'else') {
      const e = this.list();
      if (!e.stop || e.stop.word !== 'end') this.err(a.pos, 'unexpected EOF: {{range}} has no {{end}}');
      elseNodes = e.nodes;
    }
    return { t: 'range', pipe, body: body.nodes, else: elseNodes };
  }

  /** A pipeline, with an optional `$x :=` / `$k, $v :=` declaration. */
  pipe(toks: Tok[], pos: number, allowDecl: boolean): Pipe {
    const decl: string[] = [];
    const declEnd = toks.findIndex((t) => t.k === 'punct' && (t.v === ':=' || t.v === '='));
    if (declEnd >= 0) {
      const head = toks.slice(0, declEnd);
      const ok = head.every((t, n) => (n % 2 === 0 ? t.k === 'var' && t.path.length === 0 : t.k === 'punct' && t.v === ','));
      if (!ok || head.length === 0 || head.length > 3) this.err(toks[0]?.pos ?? pos, 'bad variable declaration');
      if (head.length === 3 && !allowDecl) this.err(toks[0]!.pos, 'too many declarations');
      for (const t of head) if (t.k === 'var') decl.push(t.name);
      toks = toks.slice(declEnd + 1);
    }
    if (toks.length === 0) this.err(pos, 'missing value for command');
    const cmds: Cmd[] = [];
    let cur: Operand[] = [];
    let cmdPos = toks[0]!.pos;
    let k = 0;
    while (k < toks.length) {
      const t = toks[k]!;
      if (t.k === 'punct' && t.v === '|') {
        if (cur.length === 0) this.err(t.pos, 'missing command before "|"');
        cmds.push({ args: cur, pos: cmdPos });
        cur = [];
        cmdPos = toks[k + 1]?.pos ?? t.pos;
        k++;
        continue;
      }
      if (t.k === 'punct' && t.v === '(') {
        let depth = 1;
        let e = k + 1;
        for (; e < toks.length && depth > 0; e++) {
          const x = toks[e]!;
          if (x.k === 'punct' && x.v === '(') depth++;
          if (x.k === 'punct' && x.v === ')') depth--;
        }
        if (depth !== 0) this.err(t.pos, 'unclosed left paren');
        const inner = this.pipe(toks.slice(k + 1, e - 1), t.pos, false);
        let path: string[] = [];
        if (toks[e]?.k === 'subfield') {
          path = (toks[e] as { path: string[] }).path;
          e++;
        }
        cur.push({ k: 'sub', pipe: inner, path, pos: t.pos });
        k = e;
        continue;
      }
      if (t.k === 'punct') this.err(t.pos, `unexpected "${t.v}" in command`);
      if (t.k === 'subfield') this.err(t.pos, 'unexpected field');
      cur.push(this.operand(t));
      k++;
    }
    if (cur.length === 0) this.err(toks[toks.length - 1]!.pos, 'missing command after "|"');
    cmds.push({ args: cur, pos: cmdPos });
    return { decl, cmds, pos };
  }

  private operand(t: Exclude<Tok, { k: 'punct' } | { k: 'subfield' }>): Operand {
    switch (t.k) {
      case 'field':
        return { k: 'field', path: t.path, pos: t.pos };
      case 'var':
        return { k: 'var', name: t.name, path: t.path, pos: t.pos };
      case 'dot':
        return { k: 'dot', pos: t.pos };
      case 'str':
        return { k: 'lit', v: t.v, pos: t.pos };
      case 'num':
        return { k: 'lit', v: t.v, pos: t.pos };
      case 'ident':
        if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true', pos: t.pos };
        if (t.v === 'nil') return { k: 'lit', v: null, pos: t.pos };
        if (KEYWORDS.has(t.v)) this.err(t.pos, `unexpected <${t.v}> in command`);
        if (!(t.v in FUNCS)) this.err(t.pos, `function "${t.v}" not defined`);
        return { k: 'fn', name: t.v, pos: t.pos };
    }
  }
}

// ---- values --------------------------------------------------------------------------------------

const typeName = (v: Value): string =>
  v === null || v === undefined ? '<nil>' : Array.isArray(v) ? 'slice' : typeof v === 'object' ? 'map' : typeof v === 'number' ? 'number' : typeof v;

export function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Go's %v for JSON-like values. */
export function printValue(v: Value): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(inner).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, Value>;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${inner(o[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}
const inner = (v: Value): string => (v === undefined || v === null ? '<nil>' : printValue(v));

// ---- functions -----------------------------------------------------------------------------------

type Fn = (args: Value[]) => Value;

const str = (v: Value, fn: string): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`${fn}: expected a string, got ${typeName(v)}`);
};
const arity = (fn: string, args: Value[], n: number): void => {
  if (args.length !== n) throw new Error(`wrong number of args for ${fn}: want ${n} got ${args.length}`);
};

function compare(op: string, a: Value, b: Value): boolean {
  if (op === 'eq') return a === b;
  if (op === 'ne') return a !== b;
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) {
    throw new Error(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  }
  const x = a as number | string;
  const y = b as number | string;
  return op === 'lt' ? x < y : op === 'le' ? x <= y : op === 'gt' ? x > y : x >= y;
}

const FUNCS: Record<string, Fn> = {
  json: (a) => {
    arity('json', a, 1);
    return JSON.stringify(a[0] === undefined ? null : a[0]);
  },
  index: (a) => {
    if (a.length < 1) throw new Error('wrong number of args for index: want at least 1 got 0');
    let v = a[0];
    for (const k of a.slice(1)) {
      if (Array.isArray(v)) {
        if (typeof k !== 'number' || !Number.isInteger(k)) throw new Error(`error calling index: cannot index slice with ${typeName(k)}`);
        if (k < 0 || k >= v.length) throw new Error(`error calling index: index out of range: ${k}`);
        v = v[k];
      } else if (v !== null && typeof v === 'object') {
        // A missing map key gives the zero value; for Docker's string maps (labels) that is "".
        const o = v as Record<string, Value>;
        v = Object.prototype.hasOwnProperty.call(o, String(k)) ? o[String(k)] : '';
      } else if (v === null || v === undefined) {
        return '';
      } else {
        throw new Error(`error calling index: can't index item of type ${typeName(v)}`);
      }
    }
    return v;
  },
  join: (a) => {
    arity('join', a, 2);
    const [list, sep] = a;
    if (list === null || list === undefined) return '';
    if (!Array.isArray(list)) throw new Error(`join: expected a list, got ${typeName(list)}`);
    return list.map((x) => printValue(x)).join(str(sep, 'join'));
  },
  split: (a) => {
    arity('split', a, 2);
    return str(a[0], 'split').split(str(a[1], 'split'));
  },
  upper: (a) => (arity('upper', a, 1), str(a[0], 'upper').toUpperCase()),
  lower: (a) => (arity('lower', a, 1), str(a[0], 'lower').toLowerCase()),
  title: (a) => (arity('title', a, 1), str(a[0], 'title').replace(/(^|[^A-Za-z0-9])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase())),
  pad: (a) => {
    arity('pad', a, 3);
    return ' '.repeat(Number(a[1])) + str(a[0], 'pad') + ' '.repeat(Number(a[2]));
  },
  truncate: (a) => {
    arity('truncate', a, 2);
    const s = [...str(a[0], 'truncate')];
    return s.slice(0, Number(a[1])).join('');
  },
  len: (a) => {
    arity('len', a, 1);
    const v = a[0];
    if (typeof v === 'string') return [...v].length;
    if (Array.isArray(v)) return v.length;
    if (v !== null && typeof v === 'object') return Object.keys(v).length;
    throw new Error(`error calling len: len of type ${typeName(v)}`);
  },
  printf: (a) => {
    if (a.length < 1) throw new Error('wrong number of args for printf: want at least 1 got 0');
    return sprintf(str(a[0], 'printf'), a.slice(1));
  },
  print: (a) => a.map((v, i) => (i > 0 && typeof v !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '') + printValue(v)).join(''),
  println: (a) => a.map(printValue).join(' ') + '\n',
  not: (a) => (arity('not', a, 1), !truthy(a[0])),
  and: (a) => {
    for (const v of a) if (!truthy(v)) return v;
    return a[a.length - 1];
  },
  or: (a) => {
    for (const v of a) if (truthy(v)) return v;
    return a[a.length - 1];
  },
  eq: (a) => {
    if (a.length < 2) throw new Error('missing argument for comparison');
    return a.slice(1).some((b) => compare('eq', a[0], b));
  },
  ne: (a) => (arity('ne', a, 2), compare('ne', a[0], a[1])),
  lt: (a) => (arity('lt', a, 2), compare('lt', a[0], a[1])),
  le: (a) => (arity('le', a, 2), compare('le', a[0], a[1])),
  gt: (a) => (arity('gt', a, 2), compare('gt', a[0], a[1])),
  ge: (a) => (arity('ge', a, 2), compare('ge', a[0], a[1])),
};

/** Go's fmt.Sprintf for the common verbs: %v %s %d %q %f %t %x %%, with flags `-` and `0`, width, precision. */
export function sprintf(format: string, args: Value[]): string {
  let n = 0;
  return format.replace(/%([-0+ ]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (_m, flags: string, w: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const v = args[n++];
    let s: string;
    switch (verb) {
      case 'v':
      case 's':
        s = printValue(v);
        if (prec !== undefined && verb === 's') s = [...s].slice(0, Number(prec)).join('');
        break;
      case 'd':
        if (typeof v !== 'number') return `%!d(${typeName(v)}=${printValue(v)})`;
        s = String(Math.trunc(v));
        break;
      case 'f':
        if (typeof v !== 'number') return `%!f(${typeName(v)}=${printValue(v)})`;
        s = v.toFixed(prec === undefined ? 6 : Number(prec));
        break;
      case 'q':
        s = JSON.stringify(typeof v === 'string' ? v : printValue(v));
        break;
      case 't':
        s = printValue(v);
        break;
      case 'x':
        s = typeof v === 'number' ? Math.trunc(v).toString(16) : Buffer.from(printValue(v)).toString('hex');
        break;
      default:
        return `%!${verb}(${typeName(v)}=${printValue(v)})`;
    }
    const width = w === undefined ? 0 : Number(w);
    const len = [...s].length;
    if (len < width) {
      if (flags.includes('-')) s = s + ' '.repeat(width - len);
      else if (flags.includes('0') && verb !== 's' && verb !== 'v' && verb !== 'q') s = (s.startsWith('-') ? '-' + '0'.repeat(width - len) + s.slice(1) : '0'.repeat(width - len) + s);
      else s = ' '.repeat(width - len) + s;
    }
    return s;
  }) + (n < args.length ? `%!(EXTRA ${args.slice(n).map((a) => `${typeName(a)}=${printValue(a)}`).join(', ')})` : '');
}

// ---- execution -------------------------------------------------------------------------------------

interface Scope {
  dot: Value;
  vars: Map<string, Value>;
}

class Exec {
  constructor(
    private readonly src: string,
    private readonly opts: TemplateOptions = {},
    private readonly root: Value = undefined,
  ) {}

  private err(pos: number, what: string, msg: string): never {
    throw new TemplateError(`template: :${lineCol(this.src, pos)}: executing "" at <${what}>: ${msg}`);
  }

  run(nodes: Node[], s: Scope, out: string[]): void {
    for (const n of nodes) {
      switch (n.t) {
        case 'text':
          out.push(n.v);
          break;
        case 'print': {
          const v = this.pipe(n.pipe, s);
          if (n.pipe.decl.length === 0) out.push(printValue(v));
          break;
        }
        case 'if': {
          const v = this.pipe(n.pipe, s);
          if (truthy(v)) this.run(n.then, s, out);
          else if (n.else) this.run(n.else, s, out);
          break;
        }
        case 'with': {
          const v = this.pipe(n.pipe, s);
          if (truthy(v)) this.run(n.then, { dot: v, vars: new Map(s.vars) }, out);
          else if (n.else) this.run(n.else, s, out);
          break;
        }
        case 'range': {
          const decl = n.pipe.decl;
          const v = this.pipe({ ...n.pipe, decl: [] }, s);
          let items: [Value, Value][];
          if (v === null || v === undefined) items = [];
          else if (Array.isArray(v)) items = v.map((x, i) => [i, x]);
          else if (typeof v === 'object') items = Object.keys(v).sort().map((k) => [k, (v as Record<string, Value>)[k]]);
          else if (typeof v === 'number' && Number.isInteger(v)) items = Array.from({ length: Math.max(0, v) }, (_x, i) => [i, i]);
          else this.err(n.pipe.pos, 'range', `range can't iterate over ${printValue(v)}`);
          if (items.length === 0) {
            if (n.else) this.run(n.else, s, out);
            break;
          }
          for (const [k, x] of items) {
            const vars = new Map(s.vars);
            if (decl.length === 1) vars.set(decl[0]!, x);
            if (decl.length === 2) {
              vars.set(decl[0]!, k);
              vars.set(decl[1]!, x);
            }
            this.run(n.body, { dot: x, vars }, out);
          }
          break;
        }
      }
    }
  }

  private pipe(p: Pipe, s: Scope): Value {
    let v: Value = undefined;
    p.cmds.forEach((c, i) => {
      v = this.cmd(c, s, i > 0, v);
    });
    // Declared variables live to the end of the enclosing block; our scopes copy maps per block.
    for (const d of p.decl) s.vars.set(d, v);
    return v;
  }

  private cmd(c: Cmd, s: Scope, piped: boolean, prev: Value): Value {
    const [head, ...rest] = c.args;
    if (head!.k === 'fn') {
      const args = rest.map((a) => this.operand(a, s));
      if (piped) args.push(prev);
      try {
        return FUNCS[head!.name]!(args);
      } catch (e) {
        this.err(head!.pos, head!.name, `error calling ${head!.name}: ${(e as Error).message.replace(/^error calling \w+: /, '')}`);
      }
    }
    if (rest.length > 0) this.err(rest[0]!.pos, describe(head!), `can't give argument to non-function ${describe(head!)}`);
    if (piped) this.err(head!.pos, describe(head!), `can't give argument to non-function ${describe(head!)}`);
    return this.operand(head!, s);
  }

  private operand(o: Operand, s: Scope): Value {
    switch (o.k) {
      case 'lit':
        return o.v;
      case 'dot':
        return s.dot;
      case 'field':
        return this.walk(s.dot, o.path, o.pos, '');
      case 'var': {
        if (o.name === '$') return this.walk(s.vars.get('$'), o.path, o.pos, '$');
        if (!s.vars.has(o.name)) this.err(o.pos, o.name, `undefined variable: ${o.name}`);
        return this.walk(s.vars.get(o.name), o.path, o.pos, o.name);
      }
      case 'sub':
        return this.walk(this.pipe(o.pipe, { dot: s.dot, vars: new Map(s.vars) }), o.path, o.pos, '(…)');
      case 'fn':
        try {
          return FUNCS[o.name]!([]);
        } catch (e) {
          this.err(o.pos, o.name, (e as Error).message);
        }
    }
  }

  private walk(v: Value, path: string[], pos: number, base: string): Value {
    let cur = v;
    let shown = base;
    for (const f of path) {
      shown += `.${f}`;
      if (cur === undefined || cur === null) this.err(pos, shown, `nil pointer evaluating ${shown}`);
      if (typeof cur !== 'object' || Array.isArray(cur)) this.err(pos, shown, `can't evaluate field ${f} in type ${typeName(cur)}`);
      // A list command's row is a Go struct in Docker: an unknown field is an error there, while a
      // missing key of a map (labels, inspect's JSON) reads as <no value>.
      if (this.opts.strictRowType !== undefined && cur === this.root && !(f in (cur as object))) {
        this.err(pos, shown, `can't evaluate field ${f} in type ${this.opts.strictRowType}`);
      }
      cur = (cur as Record<string, Value>)[f];
    }
    return cur;
  }
}

function describe(o: Operand): string {
  switch (o.k) {
    case 'field':
      return `.${o.path.join('.')}`;
    case 'var':
      return [o.name, ...o.path].join('.');
    case 'dot':
      return '.';
    case 'lit':
      return JSON.stringify(o.v);
    case 'fn':
      return o.name;
    case 'sub':
      return '(…)';
  }
}

export interface Template {
  execute(data: Value): string;
}

export interface TemplateOptions {
  /**
   * Treat the data passed to execute() as a struct of this Go type (e.g. "*formatter.ContainerContext"):
   * a field it lacks is an execution error naming the type, as in Docker's list commands.
   * Unset (inspect -f and other callers): a missing key gives <no value>.
   */
  strictRowType?: string;
}

export function parseTemplate(src: string, opts: TemplateOptions = {}): Template {
  const nodes = new Parser(src, lex(src)).parseAll();
  return {
    execute(data: Value): string {
      const out: string[] = [];
      new Exec(src, opts, data).run(nodes, { dot: data, vars: new Map([['$', data]]) }, out);
      return out.join('');
    },
  };
}

export function renderTemplate(src: string, data: Value, opts: TemplateOptions = {}): string {
  return parseTemplate(src, opts).execute(data);
}
