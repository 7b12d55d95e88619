// Docker-style flag parsing: `--name value`, `--name=value`, `-n value`, grouped short booleans (`-it`),
// repeatable list flags (`-e A -e B`), and `--` to end flags. Commands such as `run IMAGE CMD…` stop at
// the first positional so that the container's own flags pass through untouched.

export type FlagType = 'bool' | 'string' | 'list' | 'int';

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  description?: string;
}

export type FlagValue = boolean | string | string[] | number | undefined;

export interface Parsed {
  flags: Record<string, FlagValue>;
  args: string[];
  /** Flags ended at `--` (rather than at a positional or the end). */
  dashDash: boolean;
}

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

/** How an argument of one dash and several letters reads. */
export type ShortStyle =
  /** Docker: `-it` is `-i -t`; the last letter may take the rest (`-eA=1`) or the next argument as its value. */
  | 'grouped'
  /** runc: `-bDIR` is `-b DIR`, the rest of the argument being the value. */
  | 'attached'
  /** Compose: the argument is one flag's whole name (`-f`), never split, and `=` only follows long names. */
  | 'literal';

/** The error texts; each CLI keeps the ones its users (and scripts) know. */
export interface FlagMessages {
  unknownLong(name: string): string;
  /** `ch` the unknown letter, `arg` the whole argument (the whole name for 'literal'). */
  unknownShort(ch: string, arg: string): string;
  /** `shown` is the flag as written (`--name`, `-n`). */
  needsValue(shown: string, spec: FlagSpec): string;
  /** A bool given a value when bools take none (boolValue 'refuse'). */
  takesNoValue(shown: string): string;
}

const DOCKER_MESSAGES: FlagMessages = {
  unknownLong: (name) => `unknown flag: --${name}`,
  unknownShort: (ch, arg) => `unknown shorthand flag: '${ch}' in ${arg}`,
  needsValue: (shown) => (shown.startsWith('--') ? `flag needs an argument: ${shown}` : `flag needs an argument: '${shown.slice(1)}' in ${shown}`),
  takesNoValue: (shown) => `flag does not take a value: ${shown}`,
};

export interface ParseOptions {
  /** Stop parsing flags at the first positional argument (for `run IMAGE CMD…`, `exec ID CMD…`). */
  stopAtPositional?: boolean;
  /** How many positionals to take before stopping (e.g. 1 for `exec CONTAINER CMD…`). */
  positionalsBeforeStop?: number;
  /** Default 'grouped'. */
  shorts?: ShortStyle;
  /**
   * A bool flag given a value (`--x=v`, or `-xv` with 'attached'): 'strict' (default) takes true or
   * false and refuses anything else; 'notFalse' reads anything but "false" as true (runc);
   * 'refuse' refuses any value (Compose).
   */
  boolValue?: 'strict' | 'notFalse' | 'refuse';
  messages?: Partial<FlagMessages>;
}

/** One flag parser for every CLI of the project; the options carry what differs between them. */
export function parseFlags(argv: string[], specs: FlagSpec[], opts: ParseOptions = {}): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const msg: FlagMessages = { ...DOCKER_MESSAGES, ...opts.messages };
  const shorts = opts.shorts ?? 'grouped';
  const boolValue = opts.boolValue ?? 'strict';
  const flags: Record<string, FlagValue> = {};
  for (const s of specs) if (s.type === 'list') flags[s.name] = [];
  const args: string[] = [];
  const stopAfter = opts.stopAtPositional ? (opts.positionalsBeforeStop ?? 1) : Infinity;
  let dashDash = false;

  const set = (spec: FlagSpec, raw: string | undefined, shown: string): void => {
    switch (spec.type) {
      case 'bool':
        if (raw === undefined) flags[spec.name] = true;
        else if (boolValue === 'refuse') throw new FlagError(msg.takesNoValue(shown));
        else if (boolValue === 'notFalse') flags[spec.name] = raw !== 'false';
        else if (raw === 'true') flags[spec.name] = true;
        else if (raw === 'false') flags[spec.name] = false;
        else throw new FlagError(`invalid argument "${raw}" for "${shown}" flag: expected true or false`);
        return;
      case 'string':
        flags[spec.name] = raw as string;
        return;
      case 'list':
        (flags[spec.name] as string[]).push(raw as string);
        return;
      case 'int': {
        const n = Number(raw);
        if (!/^-?\d+$/.test(raw as string) || !Number.isSafeInteger(n)) {
          throw new FlagError(`invalid argument "${raw}" for "${shown}" flag: expected an integer`);
        }
        flags[spec.name] = n;
        return;
      }
    }
  };
  /** The value of a non-bool flag: given inline, else the next argument. */
  const valueOf = (spec: FlagSpec, inline: string | undefined, shown: string, i: number): [string | undefined, number] => {
    if (inline !== undefined || spec.type === 'bool') return [inline, i];
    if (i + 1 >= argv.length) throw new FlagError(msg.needsValue(shown, spec));
    return [argv[i + 1], i + 1];
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      dashDash = true;
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = byLong.get(name);
      if (!spec) throw new FlagError(msg.unknownLong(name));
      let raw: string | undefined;
      [raw, i] = valueOf(spec, eq >= 0 ? a.slice(eq + 1) : undefined, `--${name}`, i);
      set(spec, raw, `--${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      if (shorts === 'literal') {
        const spec = a.length === 2 ? byShort.get(a[1]!) : undefined;
        if (!spec) throw new FlagError(msg.unknownShort(a.slice(1), a));
        let raw: string | undefined;
        [raw, i] = valueOf(spec, undefined, a, i);
        set(spec, raw, a);
        continue;
      }
      if (shorts === 'attached') {
        const ch = a[1]!;
        const spec = byShort.get(ch);
        if (!spec) throw new FlagError(msg.unknownShort(ch, a));
        let raw: string | undefined = a.length > 2 ? a.slice(2) : undefined;
        [raw, i] = valueOf(spec, raw, `-${ch}`, i);
        set(spec, raw, `-${ch}`);
        continue;
      }
      // Grouped shorts: every letter but the last must be a boolean; the last may take a value.
      for (let j = 1; j < a.length; j++) {
        const ch = a[j]!;
        const spec = byShort.get(ch);
        if (!spec) throw new FlagError(msg.unknownShort(ch, a));
        if (spec.type === 'bool') {
          set(spec, undefined, `-${ch}`);
          continue;
        }
        let raw: string | undefined = a.slice(j + 1);
        if (raw.startsWith('=')) raw = raw.slice(1);
        [raw, i] = valueOf(spec, raw === '' ? undefined : raw, `-${ch}`, i);
        set(spec, raw, `-${ch}`);
        break;
      }
      continue;
    }
    args.push(a);
    if (args.length >= stopAfter) {
      i++;
      break;
    }
  }
  args.push(...argv.slice(i));
  return { flags, args, dashDash };
}

export function helpText(usage: string, specs: FlagSpec[]): string {
  const lines = specs.map((s) => {
    const names = s.short ? `-${s.short}, --${s.name}` : `    --${s.name}`;
    const arg = s.type === 'bool' ? '' : s.type === 'int' ? ' int' : ' string';
    return `  ${(names + arg).padEnd(30)} ${s.description ?? ''}`.trimEnd();
  });
  return `Usage:  ${usage}\n\nOptions:\n${lines.join('\n')}\n`;
}
