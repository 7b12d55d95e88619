// Whether a container's PID 1 will ever see a signal. In its own PID namespace, init receives a
// signal from outside only if it has installed a handler for it (the kernel drops the rest; SIGKILL
// and SIGSTOP excepted). So `stop` of `sleep` or `httpd -f` would wait the whole grace period for a
// SIGTERM that cannot arrive. /proc/PID/status's SigCgt is the caught-signal mask.
import { readFile } from 'node:fs/promises';

/** The SigCgt mask from a /proc/PID/status text: bit (n-1) set ⇔ signal n has a handler. */
export function caughtMask(status: string): bigint | undefined {
  const m = /^SigCgt:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

export function catches(mask: bigint, signo: number): boolean {
  return ((mask >> BigInt(signo - 1)) & 1n) === 1n;
}

/**
 * True when `signo` sent to `pid` (a PID-namespace init) can reach it; false when the kernel will
 * drop it; undefined when the process is gone or unreadable (the caller keeps its normal path).
 */
export async function signalReaches(pid: number, signo: number): Promise<boolean | undefined> {
  if (signo === 9 || signo === 19) return true; // SIGKILL, SIGSTOP: always delivered
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const mask = caughtMask(status);
  return mask === undefined ? undefined : catches(mask, signo);
}
