// tsswarm-runtime: an OCI runtime command line with runc's verbs and flags, so OCI tooling can drive
// our runtime. State lives under --root (default /run/tsswarm-runtime).
import { lookupSignal } from '../lib/signals.js';
import { writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Runtime, DEFAULT_ROOT } from '../runtime/driver.js';
import { RuntimeError } from '../runtime/errors.js';
import { SpecError, buildSpec, validateSpec, type SpecProcess } from '../runtime/spec.js';
import { VERSION } from '../lib/version.js';
import { splitAmbient } from '../runtime/caps.js';
import { FlagError, parseFlags as parseLibFlags, type FlagSpec as LibFlagSpec } from '../lib/flags.js';

type Flags = Record<string, string | boolean | string[]>;

interface FlagSpec {
  /** Long name -> takes a value? */
  [name: string]: { value: boolean; short?: string; repeat?: boolean };
}

class UsageError extends Error {}

/**
 * Parses flags up to the first positional (and, if stopAtPositional, leaves the rest alone), with
 * runc's syntax on lib/flags.ts: `-bDIR` as `-b DIR`, a bool given a value is true unless "false".
 */
function parseFlags(argv: string[], spec: FlagSpec, stopAtPositional = false): { flags: Flags; rest: string[] } {
  const specs: LibFlagSpec[] = Object.entries(spec).map(([name, f]) => ({ name, ...(f.short ? { short: f.short } : {}), type: f.value ? (f.repeat ? 'list' : 'string') : 'bool' }));
  let parsed: ReturnType<typeof parseLibFlags>;
  try {
    parsed = parseLibFlags(argv, specs, {
      stopAtPositional,
      shorts: 'attached',
      boolValue: 'notFalse',
      messages: {
        unknownLong: (name) => `unknown flag --${name}`,
        unknownShort: (_ch, arg) => `unknown flag ${arg}`,
        needsValue: (_shown, s) => `flag --${s.name} needs a value`,
      },
    });
  } catch (e) {
    if (e instanceof FlagError) throw new UsageError(e.message);
    throw e;
  }
  const flags: Flags = {};
  // Unset list flags stay absent, as callers test for presence.
  for (const [k, v] of Object.entries(parsed.flags)) if (v !== undefined && !(Array.isArray(v) && v.length === 0)) flags[k] = v as Flags[string];
  return { flags, rest: parsed.args };
}

const str = (v: Flags[string] | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

function oneId(rest: string[], cmd: string): string {
  if (rest.length !== 1) throw new UsageError(`${cmd} needs exactly one container id`);
  return rest[0]!;
}

function parseSignal(s: string | undefined): NodeJS.Signals | number {
  if (s === undefined) return 'SIGTERM';
  // runc's message and exit status 1: a bad signal is an error of the request, not of the usage.
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    // 1..SIGRTMAX (64 on Linux); the kernel would answer EINVAL with no hint of which argument was bad.
    if (n < 1 || n > 64) throw new RuntimeError(`invalid signal ${s}: signals are 1 to 64`);
    return n;
  }
  const n = lookupSignal(s);
  if (n === undefined) throw new RuntimeError(`unknown signal ${JSON.stringify(s)}`);
  return n;
}

/** runc's warning for ambient capabilities the kernel would refuse (see splitAmbient); the plan leaves them out. */
function warnSkippedAmbient(bundle: string): void {
  type Caps = Parameters<typeof splitAmbient>[0];
  let caps: Caps | undefined;
  try {
    caps = (JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process?: { capabilities?: Caps } }).process?.capabilities;
  } catch {
    return; // create reports an unreadable config itself, naming the field
  }
  for (const c of splitAmbient(caps ?? {}).skipped) process.stderr.write(`tsswarm-runtime: warning: ambient capability ${c} is not in the inheritable and permitted sets; skipping it\n`);
}

/** Where --log sends our own error messages (besides stderr), as containerd reads them from runc. */
let logFile: { path: string; format: 'text' | 'json' } | undefined;

function logError(msg: string): void {
  if (!logFile) return;
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const line =
    logFile.format === 'json'
      ? JSON.stringify({ level: 'error', msg, time })
      : `time=${JSON.stringify(time)} level=error msg=${JSON.stringify(msg)}`;
  try {
    appendFileSync(logFile.path, line + '\n');
  } catch {
    // The log is a side channel: failing to write it must not hide the error on stderr.
  }
}

/** Flags every runc caller may pass that change nothing for us. */
const IGNORED_GLOBAL: FlagSpec = {
  debug: { value: false },
  'systemd-cgroup': { value: false },
  rootless: { value: true },
  criu: { value: true },
};

const CREATE_FLAGS: FlagSpec = {
  bundle: { value: true, short: 'b' },
  'pid-file': { value: true },
  'console-socket': { value: true },
  'no-pivot': { value: false },
  'no-new-keyring': { value: false },
  'preserve-fds': { value: true },
  detach: { value: false, short: 'd' },
  'keep': { value: false },
};

async function cmdCreate(rt: Runtime, argv: string[], run: boolean): Promise<number> {
  const { flags, rest } = parseFlags(argv, CREATE_FLAGS);
  const id = oneId(rest, run ? 'run' : 'create');
  const bundle = str(flags.bundle) ?? process.cwd();
  const consoleSocket = str(flags['console-socket']);
  const pidFile = str(flags['pid-file']);
  const foreground = run && !flags.detach;
  warnSkippedAmbient(bundle);
  await rt.create(id, { bundle, stdio: 'inherit', watchExit: foreground, ...(pidFile ? { pidFile } : {}), ...(consoleSocket ? { consoleSocket: resolve(consoleSocket) } : {}) });
  if (!run) return 0;
  await rt.start(id);
  if (!foreground) return 0;
  // Like runc run: forward the signals we get to the container, wait, then remove it.
  const forward = (sig: NodeJS.Signals) => {
    rt.kill(id, sig).catch(() => undefined);
  };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
  for (const s of sigs) process.on(s, forward);
  const exit = await rt.wait(id);
  for (const s of sigs) process.off(s, forward);
  if (!flags.keep) await rt.delete(id, { force: true });
  return exit.exitCode;
}

async function cmdExec(rt: Runtime, argv: string[]): Promise<number> {
  const { flags, rest } = parseFlags(
    argv,
    {
      cwd: { value: true },
      env: { value: true, short: 'e', repeat: true },
      user: { value: true, short: 'u' },
      'additional-gids': { value: true, short: 'g', repeat: true },
      process: { value: true, short: 'p' },
      tty: { value: false, short: 't' },
      detach: { value: false, short: 'd' },
      'pid-file': { value: true },
      'no-new-privs': { value: false },
      cap: { value: true, short: 'c', repeat: true },
      'console-socket': { value: true },
    },
    true,
  );
  if (flags.tty || flags['console-socket']) throw new UsageError('exec: terminals are not supported yet');
  const [id, ...cmd] = rest;
  if (!id) throw new UsageError('exec needs a container id');
  let proc: Partial<SpecProcess> & { args: string[] };
  const processFile = str(flags.process);
  if (processFile) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(processFile, 'utf8'));
    } catch (err) {
      // JSON.parse's message alone does not say which file was bad.
      throw new RuntimeError(`${processFile}: ${err instanceof SyntaxError ? `not valid JSON: ${err.message}` : (err as Error).message}`);
    }
    proc = validateSpec({ ociVersion: '1.0.2', root: { path: '/' }, process: raw }).process!;
  } else {
    if (!cmd.length) throw new UsageError('exec needs a command');
    proc = { args: cmd };
  }
  const state = await rt.state(id);
  const base = JSON.parse(readFileSync(join(rt.root, id, 'state.json'), 'utf8')) as { process: SpecProcess };
  if (flags.cwd) proc.cwd = String(flags.cwd);
  const envs = (flags.env as string[] | undefined) ?? [];
  if (envs.length) {
    // Added to (and overriding) the container's environment, like runc exec --env.
    const merged = new Map((proc.env ?? base.process.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e] as const));
    for (const e of envs) merged.set(e.slice(0, e.indexOf('=')), e);
    proc.env = [...merged.values()];
  }
  const user = str(flags.user);
  if (user) {
    const [u, g] = user.split(':');
    proc.user = { uid: Number(u), gid: Number(g ?? 0), additionalGids: ((flags['additional-gids'] as string[] | undefined) ?? []).map(Number) };
    if (!Number.isInteger(proc.user.uid) || !Number.isInteger(proc.user.gid)) throw new UsageError(`--user: expected UID[:GID], got ${user}`);
  }
  if (flags['no-new-privs']) proc.noNewPrivileges = true;
  const caps = flags.cap as string[] | undefined;
  if (caps?.length) {
    const add = (set: string[] | undefined) => [...new Set([...(set ?? []), ...caps])];
    const c = base.process.capabilities ?? {};
    proc.capabilities = { bounding: add(c.bounding), effective: add(c.effective), permitted: add(c.permitted) };
  }
  if (state.status !== 'running') throw new RuntimeError(`cannot exec in container ${id}: it is ${state.status}`);
  const h = await rt.exec(id, proc, { stdio: 'inherit' });
  const pidFile = str(flags['pid-file']);
  if (pidFile || flags.detach) {
    const pid = await h.pid();
    if (pid && pidFile) writeFileSync(pidFile, String(pid));
    if (flags.detach) {
      if (pid) return 0;
      // Failed before exec: report it as the attached mode would.
      const r = await h.wait();
      if (r.error) process.stderr.write(`tsswarm-runtime: ${r.error}\n`);
      return r.exitCode || 1;
    }
  }
  const forward = (sig: NodeJS.Signals) => h.kill(sig);
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  for (const s of sigs) process.on(s, forward);
  const r = await h.wait();
  if (r.error) process.stderr.write(`tsswarm-runtime: ${r.error}\n`);
  return r.exitCode;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

/** The owner's user name from /etc/passwd, as runc reports it; "#UID" when it has none. */
function userName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && Number(f[2]) === uid && f[2] !== '') return f[0]!;
    }
  } catch {
    // No passwd file: fall through.
  }
  return `#${uid}`;
}

function ownerOf(rt: Runtime, id: string): string {
  try {
    return userName(statSync(join(rt.root, id)).uid);
  } catch {
    return '';
  }
}

/** `runc ps ID [ps options]`: the host's ps, filtered to the container's processes. */
function psTable(pids: number[], psArgs: string[]): string {
  let out: string;
  try {
    out = execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  } catch (err) {
    throw new RuntimeError(`ps: ${(err as Error).message.trim()}`);
  }
  const lines = out.split('\n');
  const header = lines[0] ?? '';
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new RuntimeError(`ps: no PID column in the output of ps ${psArgs.join(' ')}`);
  const want = new Set(pids);
  const rows = lines.slice(1).filter((l) => {
    const f = l.trim().split(/\s+/);
    return f.length > col && want.has(Number(f[col]));
  });
  return [header, ...rows].join('\n') + '\n';
}

/** Per-command usage lines from USAGE, for `COMMAND --help`. */
function commandUsage(cmd: string): string {
  const lines = USAGE.split('\n').filter((l) => l.trimStart().startsWith(`${cmd} `) || l.trim() === cmd);
  return `Usage: tsswarm-runtime [global options] ${cmd} [options]\n\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const { flags: global, rest } = parseFlags(
    argv,
    {
      root: { value: true },
      version: { value: false, short: 'v' },
      help: { value: false, short: 'h' },
      log: { value: true },
      'log-format': { value: true },
      ...IGNORED_GLOBAL,
    },
    true,
  );
  const logPath = str(global.log);
  const logFormat = str(global['log-format']) ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format: expected text or json, got ${logFormat}`);
  if (logPath) logFile = { path: logPath, format: logFormat };
  if (global.version) {
    process.stdout.write(`tsswarm-runtime version ${VERSION}\nspec: 1.0.2\n`);
    return 0;
  }
  const [cmd, ...args] = rest;
  if (!cmd || global.help || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd || global.help ? 0 : 1;
  }
  // `COMMAND --help` before any positional (after it, e.g. in exec's command, it is not ours).
  const firstPositional = args.findIndex((a) => !a.startsWith('-'));
  if (args.slice(0, firstPositional < 0 ? args.length : firstPositional).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(commandUsage(cmd));
    return 0;
  }
  const rt = new Runtime({ root: str(global.root) ?? DEFAULT_ROOT });
  switch (cmd) {
    case 'create':
      return cmdCreate(rt, args, false);
    case 'run':
      return cmdCreate(rt, args, true);
    case 'start': {
      await rt.start(oneId(parseFlags(args, {}).rest, 'start'));
      return 0;
    }
    case 'state': {
      const id = oneId(parseFlags(args, {}).rest, 'state');
      process.stdout.write(JSON.stringify(await rt.state(id), null, 2) + '\n');
      return 0;
    }
    case 'kill': {
      const { flags, rest: r } = parseFlags(args, { all: { value: false, short: 'a' } });
      if (r.length < 1 || r.length > 2) throw new UsageError('kill needs a container id and optionally a signal');
      const sig = parseSignal(r[1]);
      try {
        await rt.kill(r[0]!, sig, { all: Boolean(flags.all) });
      } catch (err) {
        if (err instanceof RuntimeError) throw err;
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EINVAL') throw new RuntimeError(`unable to signal init: invalid signal ${String(sig)}`);
        if (e.code === 'ESRCH') throw new RuntimeError(`unable to signal init: process already finished`);
        throw err;
      }
      return 0;
    }
    case 'delete': {
      const { flags, rest: r } = parseFlags(args, { force: { value: false, short: 'f' } });
      if (!r.length) throw new UsageError('delete needs a container id');
      for (const id of r) {
        if (flags.force) {
          try {
            await rt.delete(id, { force: true });
          } catch (err) {
            // As runc: --force makes a missing container a no-op, so cleanup can be repeated.
            if (!(err instanceof RuntimeError && err.code === 'ENOENT')) throw err;
          }
          continue;
        }
        // As runc: a created container has not run anything yet, so it is removed (its init, waiting
        // on the exec fifo, is killed); a running or paused one still needs --force.
        const st = await rt.state(id);
        await rt.delete(id, { force: st.status === 'created' });
      }
      return 0;
    }
    case 'pause':
      await rt.pause(oneId(parseFlags(args, {}).rest, 'pause'));
      return 0;
    case 'resume':
      await rt.resume(oneId(parseFlags(args, {}).rest, 'resume'));
      return 0;
    case 'exec':
      return cmdExec(rt, args);
    case 'list': {
      const { flags } = parseFlags(args, { format: { value: true, short: 'f' }, quiet: { value: false, short: 'q' } });
      const all = await rt.list();
      if (flags.quiet) process.stdout.write(all.map((s) => `${s.id}\n`).join(''));
      else if (flags.format === 'json') process.stdout.write(JSON.stringify(all.map((s) => ({ ...s, owner: ownerOf(rt, s.id) }))) + '\n');
      else {
        const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...all.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, ownerOf(rt, s.id)])];
        process.stdout.write(table(rows));
      }
      return 0;
    }
    case 'ps': {
      // Everything after the id is for the host's ps (`ps ID -o pid,comm`), not for us.
      const { flags, rest: r } = parseFlags(args, { format: { value: true, short: 'f' } }, true);
      const [id, ...psArgs] = r;
      if (!id) throw new UsageError('ps needs a container id');
      const pids = await rt.ps(id);
      if (flags.format === 'json') {
        process.stdout.write(JSON.stringify(pids) + '\n');
        return 0;
      }
      process.stdout.write(psTable(pids, psArgs));
      return 0;
    }
    case 'events': {
      const { flags, rest: r } = parseFlags(args, { stats: { value: false }, interval: { value: true } });
      const id = oneId(r, 'events');
      if (!flags.stats) {
        // runc's default mode streams stats every --interval and OOM notifications; not implemented.
        throw new RuntimeError('events: only --stats is supported; streaming events are not implemented yet');
      }
      const st = await rt.stats(id);
      const data = {
        cpu: { usage: { total: st.cpu.usageNs, user: st.cpu.userNs, kernel: st.cpu.systemNs } },
        memory: { usage: { usage: st.memory.usage, limit: st.memory.limit, max: st.memory.maxUsage ?? 0, failcnt: st.memory.failcnt ?? 0 } },
        pids: { current: st.pids.current, limit: st.pids.limit },
      };
      process.stdout.write(JSON.stringify({ type: 'stats', id, data }) + '\n');
      return 0;
    }
    case 'spec': {
      // Like `runc spec`: a default config.json (ours: Docker's defaults) in the bundle dir.
      const { flags } = parseFlags(args, { bundle: { value: true, short: 'b' }, rootless: { value: false } });
      const path = join(str(flags.bundle) ?? process.cwd(), 'config.json');
      if (existsSync(path)) throw new RuntimeError(`${path} already exists; remove it first`);
      await writeFile(path, JSON.stringify(buildSpec({ args: ['sh'], hostname: 'tsswarm' }), null, 2) + '\n');
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  }
}

const USAGE = `Usage: tsswarm-runtime [--root DIR] [--log FILE] [--log-format text|json] COMMAND [OPTIONS]

An OCI runtime with runc's command line.

Commands:
  create  [--bundle DIR] [--pid-file FILE] ID    create a container (its init waits for start)
  start   ID                                     run the user process of a created container
  run     [--bundle DIR] [-d] [--pid-file FILE] ID   create and start; without -d, wait and remove
  state   ID                                     print the OCI state as JSON
  kill    [--all] ID [SIGNAL]                    send a signal (default SIGTERM)
  delete  [--force] ID                           remove a stopped container (--force: kill it first)
  exec    [--cwd D] [-e K=V] [-u UID[:GID]] [-p process.json] ID CMD...
  pause   ID / resume ID                         freeze / thaw the container's cgroup
  list    [--format table|json] [-q]
  ps      [--format table|json] ID [PS OPTIONS...]     the host's ps (default -ef) for the container
  events  --stats ID                             print the container's cgroup stats as JSON
  spec    [--bundle DIR]                         write a default config.json
`;

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    logError(err instanceof Error ? err.message : String(err));
    if (err instanceof UsageError) {
      process.stderr.write(`tsswarm-runtime: ${err.message}\n${USAGE}`);
      process.exit(2);
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tsswarm-runtime: ${msg}\n`);
    process.exit(err instanceof RuntimeError ? err.exitCode : err instanceof SpecError ? 1 : 1);
  },
);
