// Variable substitution per instruction, where Docker does it (ENV, LABEL, COPY, ADD, WORKDIR, USER,
// EXPOSE, VOLUME, STOPSIGNAL; FROM and ARG are handled by the plan), and the ARG scope rules: build
// args override defaults, `ARG X` in a stage picks up the global value, ENV wins over ARG.

import { DockerfileError, InstructionError } from './errors.js';
import type { ArgDecl, Instruction, InstructionOf, Loc } from './instructions.js';
import type { EscapeChar } from './parse.js';
import { processWord, processWords, type EnvLookup } from './shell-lex.js';

/** Runs `fn`, turning a located-less InstructionError into a DockerfileError naming file and line. */
export function at<T>(loc: Loc, keyword: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InstructionError) throw new DockerfileError({ file: loc.file, line: loc.line }, keyword, err.message);
    throw err;
  }
}

/** Build args every build knows without an ARG line (in the global scope, like BuildKit's). */
export function platformArgs(p: { os: string; architecture: string; variant?: string }): Map<string, string> {
  const plat = `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
  const m = new Map<string, string>();
  for (const prefix of ['TARGET', 'BUILD']) {
    m.set(`${prefix}PLATFORM`, plat);
    m.set(`${prefix}OS`, p.os);
    m.set(`${prefix}ARCH`, p.architecture);
    m.set(`${prefix}VARIANT`, p.variant ?? '');
  }
  return m;
}

/** Passed to RUN when given as build args, without an ARG line, and kept out of history and cache. */
export const PROXY_ARGS: ReadonlySet<string> = new Set(
  ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((n) => [n, n.toLowerCase()]),
);

/** The ARGs in scope in one place of a Dockerfile (the global scope before FROM, or a stage). */
export class ArgScope {
  private readonly values = new Map<string, string | undefined>();

  constructor(
    private readonly buildArgs: Readonly<Record<string, string>>,
    /** Values an `ARG X` without default inherits: global ARGs and the platform args. */
    private readonly inherited: ReadonlyMap<string, string | undefined>,
    private readonly escape: EscapeChar,
    /** Every ARG name declared anywhere, to report build args nobody used. */
    private readonly declared?: Set<string>,
  ) {}

  /** Declares ARGs; defaults are expanded with `envFirst` (ENV) then the ARGs declared so far. */
  declare(decls: readonly ArgDecl[], envFirst: EnvLookup = () => undefined): void {
    for (const d of decls) {
      this.declared?.add(d.name);
      let value: string | undefined;
      if (Object.hasOwn(this.buildArgs, d.name)) value = this.buildArgs[d.name];
      else if (d.value !== undefined) value = processWord(d.value, (n) => envFirst(n) ?? this.get(n), this.escape).value;
      else value = this.inherited.get(d.name);
      // Re-declaring moves nothing: the original position is kept for RUN's environment order.
      this.values.set(d.name, value);
    }
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** ARGs that have a value, in declaration order: they go into RUN's environment. */
  entries(): Array<[string, string]> {
    return [...this.values].filter((e): e is [string, string] => e[1] !== undefined);
  }

  /** Everything declared, valued or not (a map of the global scope for stages to inherit). */
  snapshot(): Map<string, string | undefined> {
    return new Map(this.values);
  }
}

/** ENV first, then ARG: "an ENV instruction always overrides an ARG of the same name". */
export function stageLookup(env: readonly string[] | null | undefined, args: ArgScope): EnvLookup {
  const map = new Map<string, string>();
  for (const kv of env ?? []) {
    const i = kv.indexOf('=');
    map.set(i < 0 ? kv : kv.slice(0, i), i < 0 ? '' : kv.slice(i + 1));
  }
  return (name) => map.get(name) ?? args.get(name);
}

export interface Expanded<I extends Instruction = Instruction> {
  instr: I;
  /** Variable names the instruction referred to. */
  used: Set<string>;
}

/**
 * Substitutes variables in the instruction's arguments. Instructions Docker leaves to the shell (RUN,
 * CMD, ENTRYPOINT, SHELL, HEALTHCHECK) come back unchanged.
 */
export function expandInstruction<I extends Instruction>(instr: I, lookup: EnvLookup, escape: EscapeChar): Expanded<I> {
  const used = new Set<string>();
  const word = (s: string): string => {
    const r = processWord(s, lookup, escape);
    for (const u of r.used) used.add(u);
    return r.value;
  };
  const words = (s: string): string[] => {
    const r = processWords(s, lookup, escape);
    for (const u of r.used) used.add(u);
    return r.words;
  };
  const out = at(instr.loc, instr.kind, (): Instruction => {
    const i: Instruction = instr;
    switch (i.kind) {
      case 'ENV':
      case 'LABEL': {
        const pairs = i.pairs.map(([k, v]): [string, string] => {
          const key = word(k);
          if (key === '') throw new InstructionError(`${i.kind} names can not be blank (${k} expanded to nothing)`);
          return [key, word(v)];
        });
        return { ...i, pairs };
      }
      case 'COPY':
      case 'ADD': {
        const c: InstructionOf<'COPY' | 'ADD'> = { ...i, sources: i.sources.map(word), dest: word(i.dest), exclude: i.exclude.map(word) };
        if (i.from !== undefined) c.from = word(i.from);
        if (i.chown !== undefined) c.chown = word(i.chown);
        if (i.chmod !== undefined) c.chmod = word(i.chmod);
        if (i.checksum !== undefined) c.checksum = word(i.checksum);
        return c;
      }
      case 'WORKDIR':
      case 'USER':
      case 'STOPSIGNAL': {
        const value = word(i.value);
        if (value === '') throw new InstructionError(`${i.kind} ${i.value} expanded to an empty value`);
        return { ...i, value };
      }
      case 'EXPOSE':
        return { ...i, ports: i.ports.flatMap(words) };
      case 'VOLUME': {
        const paths = i.paths.map(word);
        if (paths.some((p) => p.trim() === '')) throw new InstructionError('a volume path can not be an empty string');
        return { ...i, paths };
      }
      default:
        return i;
    }
  });
  return { instr: out as I, used };
}
