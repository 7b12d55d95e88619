// Gives each raw instruction its meaning: argument shapes (JSON vs shell form, key=value pairs, word
// lists), allowed `--flags`, and the checks Docker makes before building anything. Values stay
// unexpanded here; variables are substituted per stage (expand.ts), where the ARG/ENV scope is known.

import { DockerfileError } from './errors.js';
import type { EscapeChar, ParsedDockerfile, RawInstruction } from './parse.js';
import { splitInstruction } from './parse.js';

export interface Loc {
  file: string;
  line: number;
  endLine: number;
  /** The instruction as written (continuations joined), for step output and image history. */
  original: string;
}

export type CommandLine = { form: 'exec'; args: string[] } | { form: 'shell'; script: string };

export interface HealthSpec {
  /** ["NONE"], ["CMD", …] or ["CMD-SHELL", script], as in the image config. */
  test: string[];
  /** Nanoseconds, like the image config; absent means "inherit the default". */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export type RunNetwork = 'default' | 'none' | 'host';

export interface ArgDecl {
  name: string;
  /** The default as written (unexpanded); absent for `ARG NAME`. */
  value?: string;
}

/** One member per keyword, so `kind === 'WORKDIR'` narrows to exactly that. */
type ValueInstruction<K extends string> = K extends string ? { kind: K; loc: Loc; value: string } : never;

export type Instruction =
  | { kind: 'FROM'; loc: Loc; image: string; stageName?: string; platform?: string }
  | { kind: 'ARG'; loc: Loc; args: ArgDecl[] }
  | { kind: 'RUN'; loc: Loc; command: CommandLine; network: RunNetwork }
  | { kind: 'CMD' | 'ENTRYPOINT'; loc: Loc; command: CommandLine }
  | { kind: 'SHELL'; loc: Loc; shell: string[] }
  | {
      kind: 'COPY' | 'ADD';
      loc: Loc;
      sources: string[];
      dest: string;
      from?: string;
      chown?: string;
      chmod?: string;
      link: boolean;
      exclude: string[];
      checksum?: string;
      keepGitDir: boolean;
    }
  | { kind: 'ENV' | 'LABEL'; loc: Loc; pairs: Array<[string, string]> }
  | ValueInstruction<'WORKDIR' | 'USER' | 'STOPSIGNAL' | 'MAINTAINER'>
  | { kind: 'EXPOSE'; loc: Loc; ports: string[] }
  | { kind: 'VOLUME'; loc: Loc; paths: string[] }
  | { kind: 'HEALTHCHECK'; loc: Loc; health: HealthSpec }
  | { kind: 'ONBUILD'; loc: Loc; trigger: string };

export type InstructionKind = Instruction['kind'];
export type InstructionOf<K extends InstructionKind> = Extract<Instruction, { kind: K }>;

export const KEYWORDS: readonly InstructionKind[] = [
  'FROM', 'ARG', 'RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'ENV', 'LABEL',
  'WORKDIR', 'USER', 'STOPSIGNAL', 'MAINTAINER', 'EXPOSE', 'VOLUME', 'HEALTHCHECK', 'ONBUILD',
];

type FlagType = 'string' | 'bool' | 'list';
type FlagSpec = Readonly<Record<string, FlagType>>;

const FLAGS: Readonly<Partial<Record<InstructionKind, FlagSpec>>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'list', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'list' },
  ADD: { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', exclude: 'list' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

interface ParsedFlags {
  strings: Map<string, string>;
  bools: Map<string, boolean>;
  lists: Map<string, string[]>;
}

/** Carries file and line so every check below can say where it failed. */
class Ctx {
  constructor(
    readonly raw: RawInstruction,
    readonly file: string,
    readonly escape: EscapeChar,
  ) {}

  get loc(): Loc {
    return { file: this.file, line: this.raw.line, endLine: this.raw.endLine, original: this.raw.original };
  }

  fail(detail: string): never {
    throw new DockerfileError({ file: this.file, line: this.raw.line }, this.raw.keyword, detail);
  }
}

function parseFlags(ctx: Ctx, kind: InstructionKind): ParsedFlags {
  const spec = FLAGS[kind] ?? {};
  const out: ParsedFlags = { strings: new Map(), bools: new Map(), lists: new Map() };
  const allowed = Object.keys(spec);
  const hint = allowed.length ? `${kind} takes ${allowed.map((f) => `--${f}`).join(', ')}` : `${kind} takes no flags`;
  for (const word of ctx.raw.flags) {
    if (!word.startsWith('--')) ctx.fail(`flag should start with --: ${word}`);
    const eq = word.indexOf('=');
    const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
    const value = eq < 0 ? undefined : word.slice(eq + 1);
    const type = spec[name];
    if (!type) ctx.fail(`unknown flag: --${name} (${hint})`);
    if (type === 'bool') {
      if (value !== undefined && value !== 'true' && value !== 'false') {
        ctx.fail(`expecting boolean value for flag --${name}, not: ${value}`);
      }
      out.bools.set(name, value !== 'false');
    } else if (value === undefined) {
      ctx.fail(`missing a value on flag: --${name} (write --${name}=VALUE)`);
    } else if (type === 'list') {
      out.lists.set(name, [...(out.lists.get(name) ?? []), value]);
    } else {
      if (out.strings.has(name)) ctx.fail(`duplicate flag specified: --${name}`);
      out.strings.set(name, value);
    }
  }
  return out;
}

/**
 * Splits on whitespace but keeps quotes and escapes in the words (they are removed when the word is
 * expanded), so `A="x y" B=z` is two words. Mirrors buildkit's parseWords.
 */
export function splitWords(rest: string, escape: EscapeChar): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let word = '';
  let blankOk = false;
  let quote = '';
  let inWord = false;
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i] as string;
    if (!inWord) {
      if (/\s/u.test(ch)) continue;
      inWord = true;
    }
    if (quote === '') {
      if (/\s/u.test(ch)) {
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        inWord = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      }
      if (ch === escape) {
        if (i + 1 === chars.length) continue;
        word += ch;
        ch = chars[++i] as string;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = '';
    if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) continue;
      word += ch;
      ch = chars[++i] as string;
    }
    word += ch;
  }
  if (inWord && (blankOk || word.length > 0)) words.push(word);
  return words;
}

function splitWhitespace(rest: string): string[] {
  return rest.split(/[\t\v\f\r ]+/u).filter((w) => w.length > 0);
}

/** `[...]` that is a JSON array of strings; undefined when it is not JSON (then it is shell form). */
function parseJsonArray(ctx: Ctx, rest: string): string[] | undefined {
  const t = rest.trimStart();
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((e): e is string => typeof e === 'string')) {
    ctx.fail('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return v;
}

function commandLine(ctx: Ctx, rest: string): CommandLine {
  const json = parseJsonArray(ctx, rest);
  return json ? { form: 'exec', args: json } : { form: 'shell', script: rest };
}

function jsonOrWords(ctx: Ctx, rest: string): string[] {
  return parseJsonArray(ctx, rest) ?? splitWhitespace(rest);
}

/** ENV/LABEL: `KEY value…` (legacy, one pair) or `K=V K2="V 2"`. */
function nameValues(ctx: Ctx, rest: string): Array<[string, string]> {
  const words = splitWords(rest, ctx.escape);
  const kw = ctx.raw.keyword;
  if (words.length === 0) ctx.fail(`${kw} requires at least one argument (${kw} KEY=VALUE …)`);
  if (!(words[0] as string).includes('=')) {
    const m = /^(\S+)\s+([\s\S]+)$/u.exec(rest);
    if (!m) ctx.fail(`${kw} must have two arguments: write ${kw} ${words[0]}=VALUE`);
    return [[m[1] as string, m[2] as string]];
  }
  return words.map((w): [string, string] => {
    const eq = w.indexOf('=');
    if (eq < 0) ctx.fail(`syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    const key = w.slice(0, eq);
    if (key === '') ctx.fail(`${kw} names can not be blank`);
    return [key, w.slice(eq + 1)];
  });
}

/** Go's time.ParseDuration, in nanoseconds. */
export function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let str = s;
  let sign = 1;
  if (str.startsWith('-') || str.startsWith('+')) {
    if (str[0] === '-') sign = -1;
    str = str.slice(1);
  }
  if (str === '0') return 0;
  if (str === '') return undefined;
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/u;
  while (str.length > 0) {
    const m = re.exec(str);
    if (!m) return undefined;
    total += parseFloat(m[1] as string) * (units[m[2] as string] as number);
    str = str.slice(m[0].length);
  }
  return sign * Math.round(total);
}

function healthDuration(ctx: Ctx, name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const d = parseGoDuration(value);
  if (d === undefined) ctx.fail(`--${name}: invalid duration ${JSON.stringify(value)} (use e.g. 30s, 1m30s, 500ms)`);
  if (d < 0) ctx.fail(`--${name} cannot be negative`);
  if (d !== 0 && d < 1e6) ctx.fail(`--${name} cannot be less than 1ms`);
  return d;
}

function parseHealthcheck(ctx: Ctx, rest: string, flags: ParsedFlags): HealthSpec {
  const m = /^(\S+)\s*([\s\S]*)$/u.exec(rest);
  if (!m) ctx.fail('HEALTHCHECK requires at least one argument (HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE)');
  const type = (m[1] as string).toUpperCase();
  const cmd = m[2] as string;
  if (type === 'NONE') {
    if (cmd !== '' || ctx.raw.flags.length > 0) ctx.fail('HEALTHCHECK NONE takes no arguments');
    return { test: ['NONE'] };
  }
  if (type !== 'CMD') ctx.fail(`unknown type ${JSON.stringify(m[1])} in HEALTHCHECK (try CMD)`);
  const line = commandLine(ctx, cmd);
  if ((line.form === 'shell' && line.script.trim() === '') || (line.form === 'exec' && line.args.length === 0)) {
    ctx.fail('missing command after HEALTHCHECK CMD');
  }
  const spec: HealthSpec = { test: line.form === 'shell' ? ['CMD-SHELL', line.script] : ['CMD', ...line.args] };
  const interval = healthDuration(ctx, 'interval', flags.strings.get('interval'));
  const timeout = healthDuration(ctx, 'timeout', flags.strings.get('timeout'));
  const startPeriod = healthDuration(ctx, 'start-period', flags.strings.get('start-period'));
  const startInterval = healthDuration(ctx, 'start-interval', flags.strings.get('start-interval'));
  if (interval !== undefined) spec.interval = interval;
  if (timeout !== undefined) spec.timeout = timeout;
  if (startPeriod !== undefined) spec.startPeriod = startPeriod;
  if (startInterval !== undefined) spec.startInterval = startInterval;
  const retries = flags.strings.get('retries');
  if (retries !== undefined) {
    if (!/^[+-]?\d+$/u.test(retries)) ctx.fail(`--retries: ${JSON.stringify(retries)} is not a whole number`);
    const n = Number.parseInt(retries, 10);
    if (n < 0) ctx.fail('--retries cannot be negative');
    spec.retries = n;
  }
  return spec;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

function isKind(k: string): k is InstructionKind {
  return (KEYWORDS as readonly string[]).includes(k);
}

function unknownInstruction(ctx: Ctx): never {
  const kw = ctx.raw.keyword;
  const near = KEYWORDS.filter((k) => levenshtein(k, kw) <= 2).sort((a, b) => levenshtein(a, kw) - levenshtein(b, kw));
  const hint = near.length ? ` (did you mean ${near[0]}?)` : '';
  throw new DockerfileError({ file: ctx.file, line: ctx.raw.line }, undefined, `unknown instruction: ${kw}${hint}`);
}

function requireArgs(ctx: Ctx, rest: string, usage: string): void {
  if (rest.trim() === '') ctx.fail(`${ctx.raw.keyword} requires at least one argument (${usage})`);
}

function parseOne(ctx: Ctx): Instruction {
  const kw = ctx.raw.keyword;
  if (!isKind(kw)) unknownInstruction(ctx);
  const flags = parseFlags(ctx, kw);
  const rest = ctx.raw.rest;
  const loc = ctx.loc;
  switch (kw) {
    case 'FROM': {
      const words = splitWhitespace(rest);
      if (words.length !== 1 && !(words.length === 3 && (words[1] as string).toLowerCase() === 'as')) {
        ctx.fail('FROM requires either one or three arguments (FROM IMAGE, or FROM IMAGE AS NAME)');
      }
      const out: InstructionOf<'FROM'> = { kind: kw, loc, image: words[0] as string };
      if (words.length === 3) {
        const name = words[2] as string;
        if (!/^[a-z][a-z0-9-_.]*$/iu.test(name)) {
          ctx.fail(`invalid name for build stage: ${JSON.stringify(name)}, name can't start with a number or contain symbols`);
        }
        out.stageName = name.toLowerCase();
      }
      const platform = flags.strings.get('platform');
      if (platform !== undefined) out.platform = platform;
      return out;
    }
    case 'ARG': {
      const words = splitWords(rest, ctx.escape);
      if (words.length === 0) ctx.fail('ARG requires at least one argument (ARG NAME[=DEFAULT])');
      const args = words.map((w): ArgDecl => {
        const eq = w.indexOf('=');
        const decl: ArgDecl = { name: eq < 0 ? w : w.slice(0, eq) };
        if (eq >= 0) decl.value = w.slice(eq + 1);
        if (decl.name === '') ctx.fail('ARG names can not be blank');
        return decl;
      });
      return { kind: kw, loc, args };
    }
    case 'RUN': {
      requireArgs(ctx, rest, 'RUN command, or RUN ["executable", "arg"]');
      if (flags.lists.has('mount')) ctx.fail('--mount is not supported by tsswarm build');
      const security = flags.strings.get('security');
      if (security !== undefined && security !== 'sandbox') ctx.fail(`--security=${security} is not supported (only sandbox)`);
      const network = flags.strings.get('network') ?? 'default';
      if (network !== 'default' && network !== 'none' && network !== 'host') {
        ctx.fail(`--network must be default, none or host, not ${JSON.stringify(network)}`);
      }
      return { kind: kw, loc, command: commandLine(ctx, rest), network };
    }
    case 'CMD':
    case 'ENTRYPOINT':
      requireArgs(ctx, rest, `${kw} command, or ${kw} ["executable", "arg"]`);
      return { kind: kw, loc, command: commandLine(ctx, rest) };
    case 'SHELL': {
      const json = parseJsonArray(ctx, rest);
      if (!json) ctx.fail('SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/sh", "-c"]');
      if (json.length === 0) ctx.fail('SHELL requires at least one argument');
      return { kind: kw, loc, shell: json };
    }
    case 'COPY':
    case 'ADD': {
      const words = jsonOrWords(ctx, rest);
      if (words.length < 2) {
        ctx.fail(
          `${kw} requires at least two arguments, but ${words.length === 0 ? 'none were' : 'only one was'} provided (${kw} SOURCE… DEST)`,
        );
      }
      if (flags.bools.get('parents')) ctx.fail('--parents is not supported by tsswarm build');
      const out: InstructionOf<'COPY' | 'ADD'> = {
        kind: kw,
        loc,
        sources: words.slice(0, -1),
        dest: words[words.length - 1] as string,
        link: flags.bools.get('link') ?? false,
        exclude: flags.lists.get('exclude') ?? [],
        keepGitDir: flags.bools.get('keep-git-dir') ?? false,
      };
      for (const k of ['from', 'chown', 'chmod', 'checksum'] as const) {
        const v = flags.strings.get(k);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    case 'ENV':
    case 'LABEL':
      return { kind: kw, loc, pairs: nameValues(ctx, rest) };
    case 'WORKDIR':
    case 'USER':
    case 'STOPSIGNAL':
    case 'MAINTAINER': {
      const usage = { WORKDIR: 'WORKDIR /path', USER: 'USER user[:group]', STOPSIGNAL: 'STOPSIGNAL SIGTERM', MAINTAINER: 'MAINTAINER name' }[kw];
      if (rest.trim() === '') ctx.fail(`${kw} requires exactly one argument (${usage})`);
      return { kind: kw, loc, value: rest.trim() };
    }
    case 'EXPOSE': {
      const ports = splitWhitespace(rest);
      if (ports.length === 0) ctx.fail('EXPOSE requires at least one argument (EXPOSE 80, 53/udp, 8000-8010/tcp)');
      return { kind: kw, loc, ports };
    }
    case 'VOLUME': {
      const paths = jsonOrWords(ctx, rest);
      if (paths.length === 0) ctx.fail('VOLUME requires at least one argument (VOLUME /data)');
      if (paths.some((p) => p.trim() === '')) ctx.fail('a volume path can not be an empty string');
      return { kind: kw, loc, paths };
    }
    case 'HEALTHCHECK':
      return { kind: kw, loc, health: parseHealthcheck(ctx, rest, flags) };
    case 'ONBUILD': {
      requireArgs(ctx, rest, 'ONBUILD INSTRUCTION');
      const sub = splitInstruction(rest);
      if (sub.keyword === 'ONBUILD') ctx.fail('chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (sub.keyword === 'FROM' || sub.keyword === 'MAINTAINER') ctx.fail(`${sub.keyword} isn't allowed as an ONBUILD trigger`);
      // The trigger must itself be a valid instruction; check it now rather than in the child build.
      parseInstruction({ ...ctx.raw, keyword: sub.keyword, flags: sub.flags, rest: sub.rest }, ctx.file, ctx.escape);
      return { kind: kw, loc, trigger: rest.trim() };
    }
  }
}

export function parseInstruction(raw: RawInstruction, file: string, escape: EscapeChar): Instruction {
  return parseOne(new Ctx(raw, file, escape));
}

export function parseInstructions(parsed: ParsedDockerfile): Instruction[] {
  return parsed.instructions.map((raw) => parseInstruction(raw, parsed.file, parsed.directives.escape));
}
