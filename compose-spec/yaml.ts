// YAML → plain values, with what the rest of the loader needs and `yaml` does not give directly:
// the line of every key path (for error messages), the Compose merge tags !reset and !override
// (recorded as paths, applied by merge.ts), `<<` merge keys, and go-yaml's reading of 0-prefixed
// integers as octal (file modes like `mode: 0440` mean what Docker users expect).
import { parseDocument, LineCounter, isMap, isSeq, isScalar, isAlias, type Document, type Node } from 'yaml';
import { ComposeError, formatPath, type PathSegment } from './errors.js';

export interface Position {
  line: number;
  column: number;
}

export interface YamlTags {
  /** Paths tagged `!reset`: removed from the result of merging this file over earlier ones. */
  resets: PathSegment[][];
  /** Paths tagged `!override`: replace, rather than merge with, what earlier files said. */
  overrides: PathSegment[][];
}

export interface ParsedYaml {
  value: unknown;
  positions: Map<string, Position>;
  tags: YamlTags;
}

// Guards against alias bombs ("billion laughs") and absurd nesting: no real Compose file comes close.
// Nodes reached through aliases are counted apart from the file's own nodes, so a large file is
// never refused for its size alone, while an expansion bomb stops after a bounded amount of work.
const MAX_ALIASED_NODES = 100_000;
const MAX_DEPTH = 256;

const OCTAL = /^[-+]?0[0-7]+$/;

export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // uniqueKeys is checked below with a Set per mapping: the library's own check compares each key
  // with every earlier one, which made a 10 MB file take minutes.
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, uniqueKeys: false, merge: false, prettyErrors: false, strict: true });
  } catch (err) {
    if (err instanceof RangeError) {
      throw new ComposeError({ file, message: `document nested too deeply to parse (keep nesting under ${MAX_DEPTH} levels)` });
    }
    throw err;
  }
  // The library catches its own stack overflow on absurd nesting and reports it once per open node.
  const overflow = doc.errors.find((e) => e.message.includes('Maximum call stack size exceeded'));
  if (overflow) {
    const lp = lineCounter.linePos(overflow.pos[0]);
    throw new ComposeError({ file, line: lp.line, column: lp.col, message: `document nested too deeply to parse (keep nesting under ${MAX_DEPTH} levels)` });
  }
  if (doc.errors.length > 0) {
    throw new ComposeError(
      doc.errors.map((e) => {
        const lp = lineCounter.linePos(e.pos[0]);
        return { file, line: lp.line, column: lp.col, message: `YAML syntax error: ${e.message}` };
      }),
    );
  }
  const positions = new Map<string, Position>();
  const tags: YamlTags = { resets: [], overrides: [] };
  let aliased = 0;
  const pos = (node: Node | null | undefined): Position | undefined => {
    if (!node?.range) return undefined;
    const lp = lineCounter.linePos(node.range[0]);
    return { line: lp.line, column: lp.col };
  };
  const record = (path: PathSegment[], node: Node | null | undefined) => {
    const p = pos(node);
    const key = formatPath(path);
    if (p && !positions.has(key)) positions.set(key, p);
  };

  const convert = (node: unknown, path: PathSegment[], aliasDepth: number): unknown => {
    if (aliasDepth > 0 && ++aliased > MAX_ALIASED_NODES) {
      throw new ComposeError({
        file,
        path: formatPath(path),
        message: `aliases expand to more than ${MAX_ALIASED_NODES} nodes (an alias bomb?): use fewer or smaller anchors`,
      });
    }
    if (path.length > MAX_DEPTH) {
      throw new ComposeError({ file, path: formatPath(path.slice(0, 8)), message: `nested more than ${MAX_DEPTH} levels deep` });
    }
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      if (aliasDepth > 100) throw new ComposeError({ file, path: formatPath(path), message: 'aliases nested too deeply' });
      const target = node.resolve(doc as Document);
      return convert(target, path, aliasDepth + 1);
    }
    const tag = (node as Node).tag;
    if (tag === '!reset') tags.resets.push([...path]);
    else if (tag === '!override') tags.overrides.push([...path]);
    if (isScalar(node)) {
      const src = (node as { source?: unknown }).source;
      if (node.type === 'PLAIN' && typeof src === 'string' && OCTAL.test(src)) return parseInt(src, 8);
      const v = node.value;
      if (typeof v === 'bigint') return Number(v);
      if (v instanceof Date) return node.source ?? v.toISOString();
      return v ?? null;
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => {
        record([...path, i], item as Node);
        return convert(item, [...path, i], aliasDepth);
      });
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const merges: unknown[] = [];
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const keyNode = pair.key;
        const rawKey = isScalar(keyNode) ? keyNode.value : keyNode;
        // Same rule as the yaml library's uniqueKeys: scalar keys are equal when their values are.
        if (isScalar(keyNode)) {
          if (seen.has(rawKey)) {
            const p = pos(keyNode as Node);
            throw new ComposeError({ file, line: p?.line, column: p?.column, message: 'YAML syntax error: Map keys must be unique' });
          }
          seen.add(rawKey);
        }
        if (isScalar(keyNode) && rawKey === '<<' && keyNode.type === 'PLAIN') {
          merges.push(pair.value);
          continue;
        }
        if (rawKey !== null && typeof rawKey === 'object') {
          throw new ComposeError({ file, path: formatPath(path), line: pos(keyNode as Node)?.line, message: 'mapping keys must be scalars' });
        }
        const key = rawKey === null || rawKey === undefined ? 'null' : String(rawKey);
        record([...path, key], keyNode as Node);
        // Object.defineProperty keeps a key named __proto__ an ordinary key.
        Object.defineProperty(out, key, {
          value: convert(pair.value, [...path, key], aliasDepth),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      // `<<` fills in keys the mapping does not set itself; the first merged source wins.
      for (const m of merges) {
        const resolved = isAlias(m) ? m.resolve(doc as Document) : m;
        const sources = isSeq(resolved) ? resolved.items : [resolved];
        for (const s of sources) {
          const v = convert(s, path, aliasDepth + 1);
          if (v === null || typeof v !== 'object' || Array.isArray(v)) {
            throw new ComposeError({ file, path: formatPath(path), message: 'merge key << must refer to a mapping' });
          }
          for (const [k, val] of Object.entries(v)) if (!Object.hasOwn(out, k)) out[k] = val;
        }
      }
      return out;
    }
    throw new ComposeError({ file, path: formatPath(path), message: 'unsupported YAML node' });
  };

  const value = doc.contents === null ? null : convert(doc.contents, [], 0);
  return { value, positions, tags };
}

/** Looks up where a key path was written; falls back to its closest ancestor that has a position. */
export function positionOf(positions: Map<string, Position>, path: readonly PathSegment[]): Position | undefined {
  for (let n = path.length; n > 0; n--) {
    const p = positions.get(formatPath(path.slice(0, n)));
    if (p) return p;
  }
  return undefined;
}
