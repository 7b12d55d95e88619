// The swarm task executor contract (agent/exec): a TaskController drives real busybox containers
// through an in-process engine — no daemon, no HTTP — and the engine's records and events follow.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Engine } from '../agent/engine.js';
import { signalReaches } from '../runtime/signal-disposition.js';
import { ContainerTaskController } from '../agent/exec/controller.js';
import { createBody, parseTaskSpec, type TaskSpec } from '../agent/exec/task-spec.js';
import type { EngineEvent } from '../agent/events.js';
import { importBusyboxImage } from '../image/testing/busybox-image.js';
import { createLogger } from '../lib/log.js';

describe('e2e: task controller over the in-process container service', function () {
  this.timeout(120_000);
  let dir = '';
  let engine: Engine | undefined;
  const saved = { prefix: process.env.TSSWARM_NET_PREFIX, teardown: process.env.TSSWARM_TEARDOWN };
  const prefix = `x${randomBytes(2).toString('hex').slice(0, 3)}`;

  before(async function () {
    dir = mkdtempSync('/tmp/tsswarm-task-');
    // Kernel objects of this engine carry a prefix of its own and are all removed at close.
    process.env.TSSWARM_NET_PREFIX = prefix;
    process.env.TSSWARM_TEARDOWN = '1';
    engine = await Engine.open({ dataRoot: join(dir, 'data'), execRoot: join(dir, 'exec'), host: `unix://${join(dir, 'sock')}` }, createLogger('task-test', () => undefined));
    await importBusyboxImage(engine.images);
  });

  after(async function () {
    try {
      await engine?.close();
    } finally {
      for (const [k, v] of [['TSSWARM_NET_PREFIX', saved.prefix], ['TSSWARM_TEARDOWN', saved.teardown]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  const controller = (name: string, spec: Partial<TaskSpec>): ContainerTaskController =>
    new ContainerTaskController({ containers: engine!.containers, events: engine!.events }, name, createBody(parseTaskSpec({ Image: 'busybox:latest', ...spec })));

  it('prepares, starts and waits for a task whose spec reaches the container, then removes it', async () => {
    const t = controller('task-run', {
      Command: ['/bin/sh', '-c'],
      Args: ['test "$(hostname)" = web-1 && test "$A" = 1 && grep -q " /scratch tmpfs " /proc/mounts && exit 3; exit 1'],
      Env: ['A=1'],
      Labels: { 'com.docker.swarm.task.id': 'task-run' },
      Mounts: [{ Type: 'tmpfs', Target: '/scratch' }],
      Hostname: 'web-1',
    });
    const seen: EngineEvent[] = [];
    const off = t.events((e) => seen.push(e));
    try {
      assert.equal(t.inspect(), undefined);
      await t.prepare();
      const created = t.inspect();
      assert.equal(created?.status, 'created');
      await t.prepare();
      assert.equal(t.inspect()?.containerId, created.containerId, 'prepare is idempotent');
      assert.deepEqual(engine!.containers.resolve('task-run').Config.Labels, { 'com.docker.swarm.task.id': 'task-run' });
      await t.start();
      const exit = await t.wait();
      assert.deepEqual(exit, { exitCode: 3, oomKilled: false }, 'exit 3: hostname, env and tmpfs mount all arrived');
      assert.equal(t.inspect()?.status, 'exited');
      await t.remove();
      assert.equal(t.inspect(), undefined);
      await t.remove();
    } finally {
      off();
    }
    assert.deepEqual(
      seen.map((e) => e.Action),
      ['create', 'start', 'die', 'destroy'],
    );
    assert.equal(seen[2]?.Actor.Attributes.exitCode, '3');
  });

  it('shutdown delivers the stop signal within the grace period', async () => {
    const t = controller('task-stop', { Command: ['/bin/sh', '-c'], Args: ['trap "exit 0" TERM; while true; do sleep 0.1; done'], StopGracePeriod: 30e9 });
    try {
      await t.prepare();
      await t.start();
      assert.equal(t.inspect()?.status, 'running');
      // A PID 1 without a SIGTERM handler is killed at once (the signal could never arrive): wait
      // until the shell has installed its trap, as the kernel reports it, before asking it to stop.
      const pid = t.inspect()!.pid;
      for (let i = 0; i < 200 && (await signalReaches(pid, 15)) !== true; i++) await new Promise((r) => setTimeout(r, 25));
      const exit = t.wait();
      await t.shutdown();
      assert.equal((await exit).exitCode, 0, 'the trap ran: it got SIGTERM, not the SIGKILL after 30 s');
    } finally {
      await t.remove();
    }
  });

  it('terminate kills at once, and is a no-op on a task that is not running', async () => {
    const t = controller('task-kill', { Command: ['/bin/sleep'], Args: ['300'] });
    try {
      await t.prepare();
      await t.start();
      const exit = t.wait();
      await t.terminate();
      assert.equal((await exit).exitCode, 137);
      await t.terminate();
      assert.equal(t.inspect()?.status, 'exited');
    } finally {
      await t.remove();
    }
  });

  it('refuses start before prepare, naming the task', async () => {
    const t = controller('task-none', {});
    await assert.rejects(t.start(), /cannot start task task-none: its container does not exist/);
  });
});
