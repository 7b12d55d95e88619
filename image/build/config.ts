// What each instruction does to the image config (Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts,
// Labels, Volumes, Healthcheck, StopSignal, Shell, OnBuild), and the history line it leaves. Pure: the
// instruction comes in already expanded.

import { posix } from 'node:path';
import type { ContainerConfig } from '../schemas.js';
import { InstructionError } from './errors.js';
import type { CommandLine, Instruction } from './instructions.js';
import { lookupSignal } from '../../lib/signals.js';

export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

export interface StageConfig {
  config: ContainerConfig;
  /** Whether this stage set CMD itself: ENTRYPOINT clears an inherited CMD but not our own. */
  cmdSet: boolean;
  author?: string;
}

export function shellOf(config: ContainerConfig): string[] {
  return config.Shell && config.Shell.length > 0 ? [...config.Shell] : [...DEFAULT_SHELL];
}

/** A command as the argv the image stores: exec form as is, shell form wrapped in the stage's SHELL. */
export function argvOf(cmd: CommandLine, config: ContainerConfig): string[] {
  return cmd.form === 'exec' ? [...cmd.args] : [...shellOf(config), cmd.script];
}

/** Sets KEY in a `KEY=value` list, in place of an existing entry, else at the end. */
export function setEnv(env: readonly string[], key: string, value: string): string[] {
  const out = [...env];
  const i = out.findIndex((kv) => kv === key || kv.startsWith(`${key}=`));
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

/** Docker's WORKDIR rule: relative paths are joined to the current one. */
export function normalizeWorkdir(current: string | undefined, requested: string): string {
  if (requested === '') throw new InstructionError('cannot normalize nothing');
  return requested.startsWith('/') ? posix.normalize(requested) : posix.join('/', current ?? '', requested);
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

/** `80`, `80/udp`, `8000-8002/tcp` → the ExposedPorts keys (`80/tcp` …). */
export function parseExposedPort(spec: string): string[] {
  const m = /^(?:(?:[^:]*:)?[^:]*:)?(\d+)(?:-(\d+))?(?:\/([a-zA-Z]+))?$/u.exec(spec);
  const err = (): never => {
    throw new InstructionError(`invalid port ${JSON.stringify(spec)}: expected PORT, PORT/PROTO or START-END[/PROTO] with PROTO tcp, udp or sctp`);
  };
  if (!m) return err();
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (!PROTOCOLS.has(proto)) return err();
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || end > 65535 || end < start) return err();
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

/** STOPSIGNAL accepts what Docker does: `SIGTERM`, `TERM`, `15`, `SIGRTMIN+3`. */
export function validateSignal(sig: string): string {
  if (lookupSignal(sig) !== undefined) return sig;
  throw new InstructionError(`invalid signal: ${sig} (use a name such as SIGTERM or a number 1-64)`);
}

/** The new stage config after one instruction. Instructions without config effect return it unchanged. */
export function applyInstruction(state: StageConfig, instr: Instruction): StageConfig {
  const c: ContainerConfig = { ...state.config };
  let cmdSet = state.cmdSet;
  let author = state.author;
  switch (instr.kind) {
    case 'ENV': {
      let env = c.Env ?? [];
      for (const [k, v] of instr.pairs) env = setEnv(env, k, v);
      c.Env = env;
      break;
    }
    case 'LABEL': {
      const labels = { ...(c.Labels ?? {}) };
      for (const [k, v] of instr.pairs) labels[k] = v;
      c.Labels = labels;
      break;
    }
    case 'WORKDIR':
      c.WorkingDir = normalizeWorkdir(c.WorkingDir, instr.value);
      break;
    case 'USER':
      c.User = instr.value;
      break;
    case 'CMD':
      c.Cmd = argvOf(instr.command, c);
      cmdSet = true;
      break;
    case 'ENTRYPOINT':
      c.Entrypoint = argvOf(instr.command, c);
      if (!cmdSet) c.Cmd = null;
      break;
    case 'SHELL':
      c.Shell = [...instr.shell];
      break;
    case 'EXPOSE': {
      const ports = { ...(c.ExposedPorts ?? {}) };
      for (const spec of instr.ports) for (const p of parseExposedPort(spec)) ports[p] = {};
      c.ExposedPorts = ports;
      break;
    }
    case 'VOLUME': {
      const vols = { ...(c.Volumes ?? {}) };
      for (const p of instr.paths) vols[p] = {};
      c.Volumes = vols;
      break;
    }
    case 'STOPSIGNAL':
      c.StopSignal = validateSignal(instr.value);
      break;
    case 'HEALTHCHECK': {
      const h = instr.health;
      c.Healthcheck = {
        Test: [...h.test],
        ...(h.interval !== undefined ? { Interval: h.interval } : {}),
        ...(h.timeout !== undefined ? { Timeout: h.timeout } : {}),
        ...(h.startPeriod !== undefined ? { StartPeriod: h.startPeriod } : {}),
        ...(h.startInterval !== undefined ? { StartInterval: h.startInterval } : {}),
        ...(h.retries !== undefined ? { Retries: h.retries } : {}),
      };
      break;
    }
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), instr.trigger];
      break;
    case 'MAINTAINER':
      author = instr.value;
      break;
    case 'FROM':
    case 'ARG':
    case 'RUN':
    case 'COPY':
    case 'ADD':
      return state;
  }
  const out: StageConfig = { config: c, cmdSet };
  if (author !== undefined) out.author = author;
  return out;
}

/** `|2 A=1 B=2 ` — how Docker marks the build args a RUN saw in its history line and cache key. */
export function runArgsPrefix(args: ReadonlyArray<readonly [string, string]>): string {
  return args.length === 0 ? '' : `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(' ')} `;
}

/** The image history line for a step (BuildKit's style: the instruction as it ran). */
export function historyLine(instr: Instruction, config: ContainerConfig, runArgs: ReadonlyArray<readonly [string, string]> = []): string {
  switch (instr.kind) {
    case 'RUN':
      return `RUN ${runArgsPrefix(runArgs)}${instr.command.form === 'exec' ? JSON.stringify(instr.command.args) : [...shellOf(config), instr.command.script].join(' ')}`;
    case 'CMD':
    case 'ENTRYPOINT':
      return `${instr.kind} ${JSON.stringify(argvOf(instr.command, config))}`;
    case 'SHELL':
      return `SHELL ${JSON.stringify(instr.shell)}`;
    case 'ENV':
    case 'LABEL':
      return `${instr.kind} ${instr.pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    case 'ARG':
      return `ARG ${instr.args.map((a) => (a.value !== undefined ? `${a.name}=${a.value}` : a.name)).join(' ')}`;
    case 'COPY':
    case 'ADD': {
      const flags = [instr.from !== undefined ? `--from=${instr.from} ` : '', instr.chown !== undefined ? `--chown=${instr.chown} ` : '', instr.chmod !== undefined ? `--chmod=${instr.chmod} ` : ''].join('');
      return `${instr.kind} ${flags}${[...instr.sources, instr.dest].join(' ')}`;
    }
    case 'WORKDIR':
    case 'USER':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      return `${instr.kind} ${instr.value}`;
    case 'EXPOSE':
      return `EXPOSE ${instr.ports.join(' ')}`;
    case 'VOLUME':
      return `VOLUME ${JSON.stringify(instr.paths)}`;
    case 'HEALTHCHECK':
      return `HEALTHCHECK ${instr.health.test[0] === 'NONE' ? 'NONE' : JSON.stringify(instr.health.test)}`;
    case 'ONBUILD':
      return `ONBUILD ${instr.trigger}`;
    case 'FROM':
      return `FROM ${instr.image}`;
  }
}
