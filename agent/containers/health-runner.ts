// One healthcheck probe: the check's command exec'd in the container, its output kept (bounded) and
// killed at the check's timeout. Turning results into a health state is health.ts's job.
import type { ContainerRuntime } from '../../runtime/index.js';
import { errorResult, timeoutResult, type ProbeResult, type ResolvedHealthcheck } from './health.js';

/** Docker keeps at most this much of a probe's output. */
const MAX_OUTPUT = 8192;

export async function runProbe(runtime: ContainerRuntime, id: string, hc: ResolvedHealthcheck): Promise<ProbeResult> {
  const startMs = Date.now();
  try {
    const hnd = await runtime.exec(id, { args: hc.argv });
    let out = '';
    const take = (b: Buffer): void => {
      if (out.length < MAX_OUTPUT) out += b.toString();
    };
    hnd.stdout?.on('data', take);
    hnd.stderr?.on('data', take);
    hnd.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), hc.timeoutMs);
    });
    const res = await Promise.race([hnd.wait(), timedOut]);
    clearTimeout(timer);
    if (res === 'timeout') {
      hnd.kill('SIGKILL');
      return timeoutResult(startMs, Date.now(), hc.timeoutMs);
    }
    return { startMs, endMs: Date.now(), exitCode: res.exitCode, output: res.error ?? out };
  } catch (e) {
    return errorResult(startMs, Date.now(), e as Error);
  }
}
