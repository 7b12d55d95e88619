// Signals by name and number (Linux numbering, as on x86-64 and arm64), in the forms Docker accepts:
// `SIGTERM`, `TERM`, `term`, `15`, and the real-time `SIGRTMIN+3` / `RTMAX-1`. One table for the
// engine, the runtime CLI, the image builder and the CLI flags.
import { InvalidArgumentError } from './errors.js';

/** The lowest and highest signal numbers the kernel accepts (SIGRTMAX is 64 on Linux). */
export const MIN_SIGNAL = 1;
export const MAX_SIGNAL = 64;
const RTMIN = 34;

const NUMBERS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22,
  URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31, UNUSED: 31,
  RTMIN: RTMIN, RTMAX: MAX_SIGNAL,
};

/** The canonical name of each number below SIGRTMIN (aliases such as IOT and CLD are not canonical). */
const NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(NUMBERS)
    .filter(([n]) => !['IOT', 'CLD', 'POLL', 'UNUSED', 'RTMIN', 'RTMAX'].includes(n))
    .map(([n, v]) => [v, `SIG${n}`]),
);

/** A signal the table does not know; the message is the engine's ("invalid signal: X"). */
export class SignalError extends InvalidArgumentError {
  constructor(readonly value: string) {
    super(`invalid signal: ${value}`);
    this.name = 'SignalError';
  }
}

/** The number of `s` (`SIGTERM`, `TERM`, `15`, `SIGRTMIN+3`), or undefined when it names no signal. */
export function lookupSignal(s: string): number | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n >= MIN_SIGNAL && n <= MAX_SIGNAL ? n : undefined;
  }
  const name = s.toUpperCase().replace(/^SIG/, '');
  const rt = /^RTM(IN|AX)([+-])(\d+)$/.exec(name);
  if (rt) {
    const base = rt[1] === 'IN' ? RTMIN : MAX_SIGNAL;
    const n = base + (rt[2] === '+' ? 1 : -1) * Number(rt[3]);
    return n >= RTMIN && n <= MAX_SIGNAL ? n : undefined;
  }
  return Object.hasOwn(NUMBERS, name) ? NUMBERS[name] : undefined;
}

/** Like lookupSignal, but a SignalError (kind invalid) for anything that is not a signal. */
export function parseSignal(s: string): number {
  const n = lookupSignal(s);
  if (n === undefined) throw new SignalError(s);
  return n;
}

/** `SIGTERM` for 15; `SIGRTMIN+n` for the real-time range; undefined outside 1-64. */
export function signalName(n: number): string | undefined {
  if (!Number.isInteger(n) || n < MIN_SIGNAL || n > MAX_SIGNAL) return undefined;
  if (n >= RTMIN) return n === RTMIN ? 'SIGRTMIN' : n === MAX_SIGNAL ? 'SIGRTMAX' : `SIGRTMIN+${n - RTMIN}`;
  return NAMES.get(n);
}
