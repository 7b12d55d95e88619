// `extends`: a service starts from another (in the same file or another one) and overrides it with
// the merge rules of several files. Resolved per file, before files are merged, as compose-go does.
// Pure: loading another file is the caller's callback (it reads, interpolates, validates it and
// resolves its relative paths against its own directory).
import { dirname, resolve } from 'node:path';
import { applyTags, mergeService } from './merge.js';
import type { YamlTags } from './yaml.js';
import { clone, isRecord, setOwn, type Dict } from './util.js';

export interface SourceFile {
  /** Absolute path. */
  path: string;
  /** Parsed, interpolated, validated, paths resolved. */
  value: Dict;
  tags: YamlTags;
}

export class ExtendsError extends Error {
  constructor(
    readonly file: string,
    readonly service: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExtendsError';
  }
}

export type FileLoader = (absPath: string) => SourceFile;

function servicesOf(f: SourceFile): Dict {
  return isRecord(f.value.services) ? f.value.services : {};
}

/** Returns the file's services with every `extends` resolved (and the key removed). */
export function resolveExtends(file: SourceFile, load: FileLoader): Dict {
  const memo = new Map<string, Dict>();
  const resolveOne = (f: SourceFile, name: string, stack: string[]): Dict => {
    const id = `${f.path}#${name}`;
    const cached = memo.get(id);
    if (cached) return cached;
    if (stack.includes(id)) {
      const chain = [...stack.slice(stack.indexOf(id)), id].map((s) => s.slice(s.indexOf('#') + 1));
      throw new ExtendsError(f.path, name, `extends cycle: ${chain.join(' -> ')}`);
    }
    const svc = servicesOf(f)[name];
    if (!isRecord(svc)) throw new ExtendsError(f.path, name, `service '${name}' not found`);
    const ext = svc.extends;
    if (ext === undefined) {
      memo.set(id, svc);
      return svc;
    }
    const target = typeof ext === 'string' ? { service: ext } : (ext as { service: string; file?: string });
    let baseFile = f;
    if (target.file !== undefined) {
      const p = resolve(dirname(f.path), target.file);
      try {
        baseFile = p === f.path ? f : load(p);
      } catch (e) {
        if (e instanceof ExtendsError) throw e;
        throw new ExtendsError(f.path, name, `cannot load '${target.file}': ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (!isRecord(servicesOf(baseFile)[target.service])) {
      const where = target.file !== undefined ? ` in ${target.file}` : '';
      throw new ExtendsError(f.path, name, `service '${target.service}'${where} not found`);
    }
    const base = resolveOne(baseFile, target.service, [...stack, id]);
    const own = clone(svc);
    delete own.extends;
    const merged = mergeService(base, own);
    applyTags(merged, f.value, f.tags, ['services', name], []);
    memo.set(id, merged);
    return merged;
  };
  const out: Dict = {};
  for (const name of Object.keys(servicesOf(file))) setOwn(out, name, resolveOne(file, name, []));
  return out;
}
