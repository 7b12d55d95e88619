// The runtime driver against the real kernel: busybox containers checked from inside and outside.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RuntimeError } from '../runtime/errors.js';
import { SpecError } from '../runtime/spec.js';
import { DEFAULT_CAPABILITIES, tweakCapabilities } from '../runtime/caps.js';
import { RuntimeEnv, readLog, until } from './fixtures/runtime.js';

const env = new RuntimeEnv();
const run = promisify(execFile);

function statusField(out: string, field: string): string {
  const m = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(out);
  assert.ok(m, `${field} not in output:\n${out}`);
  return m[1]!.trim();
}

async function collect(stream: NodeJS.ReadableStream | null): Promise<string> {
  if (!stream) return '';
  let s = '';
  for await (const c of stream) s += String(c);
  return s;
}

describe('runtime (e2e)', function () {
  before(async () => {
    await env.setup();
  });
  after(async () => {
    await env.cleanup();
  });

  describe('a busybox container', () => {
    it('runs as PID 1 with its hostname, and logs stdout and stderr as json lines', async () => {
      const r = await env.run({ args: ['sh', '-c', 'echo pid=$$; hostname; echo oops >&2; exit 3'], hostname: 'box1' });
      assert.deepEqual(r.exit, { ...r.exit, exitCode: 3, signal: 0, oomKilled: false });
      assert.equal(r.stdout, 'pid=1\nbox1\n');
      const err = r.log.filter((l) => l.stream === 'stderr');
      assert.deepEqual(err.map((l) => l.log), ['oops\n']);
      for (const l of r.log) assert.ok(!Number.isNaN(Date.parse(l.time)) && /\.\d{9}Z$/.test(l.time), l.time);
    });

    it('has /proc, /dev, devpts, shm, mqueue, a read-only /sys and cgroup', async () => {
      const r = await env.run({ args: ['sh', '-c', 'cat /proc/self/mountinfo; echo ---; ls -l /dev; echo ---; for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done'] });
      const [mountinfo, dev, links] = r.stdout.split('---\n');
      const mounts = new Map<string, { type: string; opts: string }>();
      for (const line of mountinfo!.trim().split('\n')) {
        const f = line.split(' ');
        const sep = f.indexOf('-');
        mounts.set(f[4]!, { type: f[sep + 1]!, opts: f[5]! });
      }
      assert.equal(mounts.get('/proc')?.type, 'proc');
      assert.equal(mounts.get('/dev')?.type, 'tmpfs');
      assert.equal(mounts.get('/dev/pts')?.type, 'devpts');
      assert.equal(mounts.get('/dev/shm')?.type, 'tmpfs');
      assert.equal(mounts.get('/dev/mqueue')?.type, 'mqueue');
      assert.equal(mounts.get('/sys')?.type, 'sysfs');
      assert.match(mounts.get('/sys')!.opts, /^ro,/);
      assert.match(mounts.get('/sys/fs/cgroup')!.opts, /^ro,/);
      assert.match(mounts.get('/sys/fs/cgroup/memory')!.opts, /^ro,/);
      assert.match(mounts.get('/')!.opts, /^ro,/, 'read-only root as asked');
      for (const d of ['null', 'zero', 'full', 'random', 'urandom', 'tty']) assert.match(dev!, new RegExp(`^c.* ${d}$`, 'm'), d);
      assert.deepEqual(links!.trim().split('\n'), ['pts/ptmx', '/proc/self/fd', '/proc/self/fd/0', '/proc/self/fd/1', '/proc/self/fd/2']);
    });

    it("masks Docker's masked paths and makes its read-only paths read-only", async () => {
      const r = await env.run({
        args: ['sh', '-c', 'wc -c < /proc/keys; ls -A /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/ns_last_pid && echo WROTE || echo REFUSED'],
      });
      assert.equal(r.stdout.split('\n').slice(0, 3).join('\n'), '0\n0\nREFUSED');
    });

    it("has Docker's default capabilities, with add and drop", async () => {
      const r = await env.run({ args: ['cat', '/proc/self/status'] });
      for (const f of ['CapPrm', 'CapEff', 'CapBnd']) assert.equal(statusField(r.stdout, f), '00000000a80425fb', f);
      assert.equal(statusField(r.stdout, 'CapInh'), '0000000000000000');
      assert.equal(statusField(r.stdout, 'NoNewPrivs'), '0');
      const caps = tweakCapabilities(DEFAULT_CAPABILITIES, ['NET_ADMIN'], ['NET_RAW', 'MKNOD']);
      const r2 = await env.run({ args: ['cat', '/proc/self/status'], capabilities: caps, noNewPrivileges: true });
      const bnd = BigInt(`0x${statusField(r2.stdout, 'CapBnd')}`);
      assert.equal(bnd & (1n << 12n), 1n << 12n, 'NET_ADMIN added');
      assert.equal(bnd & (1n << 13n), 0n, 'NET_RAW dropped');
      assert.equal(bnd & (1n << 27n), 0n, 'MKNOD dropped');
      assert.equal(statusField(r2.stdout, 'NoNewPrivs'), '1');
    });

    it('runs as a user with supplementary groups, in a working directory, with env and rlimits', async () => {
      const r = await env.run({
        args: ['sh', '-c', 'id; pwd; echo $GREETING; ulimit -n; grep -E "^Cap(Eff|Prm)" /proc/self/status'],
        user: { uid: 1000, gid: 1000, additionalGids: [5] },
        cwd: '/home/app',
        env: ['PATH=/bin:/usr/bin', 'GREETING=hello world'],
        rlimits: [{ type: 'RLIMIT_NOFILE', soft: 123, hard: 456 }],
      });
      const lines = r.stdout.split('\n');
      assert.equal(lines[0], 'uid=1000(app) gid=1000(app) groups=5(tty)');
      assert.equal(lines[1], '/home/app');
      assert.equal(lines[2], 'hello world');
      assert.equal(lines[3], '123');
      assert.equal(lines[4], 'CapPrm:\t0000000000000000', 'a non-root user keeps no capabilities');
      assert.equal(lines[5], 'CapEff:\t0000000000000000');
    });

    it('has its own pid, uts, ipc, mount, net and cgroup namespaces, with loopback up', async () => {
      const r = await env.run({ args: ['sh', '-c', 'for n in pid uts ipc mnt net cgroup; do readlink /proc/self/ns/$n; done; cat /sys/class/net/lo/operstate; cat /proc/self/cgroup | head -3'] });
      const lines = r.stdout.split('\n');
      for (const [i, t] of ['pid', 'uts', 'ipc', 'mnt', 'net', 'cgroup'].entries()) {
        assert.notEqual(lines[i], readlinkSync(`/proc/self/ns/${t}`), t);
      }
      assert.equal(lines[6], 'unknown', 'lo is up (operstate of loopback is "unknown")');
      for (const l of lines.slice(7, 10)) assert.match(l, /:\/$/, 'cgroup namespace rooted at its own group');
    });

    it('reports a program that cannot be run, with 127 and 126, and leaves nothing behind', async () => {
      for (const [args, code, msg] of [
        [['/bin/nosuch'], 127, 'exec: /bin/nosuch: no such file or directory'],
        [['nosuch'], 127, 'exec: "nosuch": executable file not found in $PATH'],
        [['/etc/passwd'], 126, 'exec: /etc/passwd: permission denied'],
      ] as const) {
        const id = env.newId();
        const bundle = await env.bundle({ args: [...args] });
        await assert.rejects(env.rt.create(id, { bundle }), (err: unknown) => {
          assert.ok(err instanceof RuntimeError);
          assert.equal(err.exitCode, code);
          assert.ok(err.message.endsWith(msg), err.message);
          return true;
        });
        await env.assertGone(id);
        assert.equal(existsSync(`/sys/fs/cgroup/memory/tsswarm/${id}`), false);
      }
    });
  });

  describe('bad input', () => {
    const cases: [string, (s: Record<string, any>) => void, RegExp][] = [
      ['missing rootfs', (s) => (s.root.path = '/nonexistent/rootfs'), /^root\.path: \/nonexistent\/rootfs does not exist/],
      ['unknown mount type', (s) => s.mounts.push({ destination: '/x', type: 'nosuchfs', source: 'x' }), /^mounts\[7\]\.type: unknown mount type "nosuchfs"/],
      ['unknown capability', (s) => s.process.capabilities.bounding.push('CAP_TELEPORT'), /^process\.capabilities\.bounding\[14\]: unknown capability/],
      ['negative limit', (s) => (s.linux.resources.memory = { limit: -10 }), /^linux\.resources\.memory\.limit: must be >= 0/],
      ['missing bind source', (s) => s.mounts.push({ destination: '/x', type: 'bind', source: '/nonexistent/src', options: ['rbind'] }), /^mounts\[7\]\.source: \/nonexistent\/src does not exist/],
    ];
    for (const [name, edit, msg] of cases) {
      it(`${name}: an error naming the field, and nothing created`, async () => {
        const id = env.newId();
        // External JSON: edited as a plain object.
        const bundle = await env.bundle({ args: ['true'] }, (s) => edit(s as unknown as Record<string, any>));
        await assert.rejects(env.rt.create(id, { bundle }), (err: unknown) => {
          assert.ok(err instanceof SpecError, String(err));
          assert.match(err.message, msg);
          return true;
        });
        await env.assertGone(id);
        for (const c of ['memory', 'pids', 'cpu']) assert.equal(existsSync(`/sys/fs/cgroup/${c}/tsswarm/${id}`), false);
      });
    }

    it('a config.json that does not parse', async () => {
      const id = env.newId();
      const bundle = join(env.work, 'badjson');
      await mkdir(bundle, { recursive: true });
      await writeFile(join(bundle, 'config.json'), '{"ociVersion": "1.0.2", ');
      await assert.rejects(env.rt.create(id, { bundle }), /config.json: not valid JSON/);
      await env.assertGone(id);
    });

    it('a mount the kernel refuses: the error names it and everything is rolled back', async () => {
      const id = env.newId();
      // /mnt exists in the image: a missing mount point would be made in the shared rootfs.
      const bundle = await env.bundle({ args: ['true'], mounts: [{ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['nosuchoption=1'] }] });
      await assert.rejects(env.rt.create(id, { bundle }), /mount tmpfs on \/mnt \(type tmpfs, options "nosuchoption=1"\): invalid argument/);
      await env.assertGone(id);
      for (const c of ['memory', 'pids', 'cpu']) assert.equal(existsSync(`/sys/fs/cgroup/${c}/tsswarm/${id}`), false);
    });
  });

  describe('cgroups', () => {
    it('OOM-kills a process that exceeds the memory limit, and reports it', async () => {
      const r = await env.run({
        args: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'],
        resources: { memory: { limit: 16 * 1024 * 1024 } },
      });
      assert.equal(r.exit.signal, 9);
      assert.equal(r.exit.exitCode, 137);
      assert.equal(r.exit.oomKilled, true);
    });

    it('caps a fork loop with the pids limit', async () => {
      // Each background sleep needs a pid; with 10 allowed, the later forks fail.
      const id = env.newId();
      // ash gives up at the first failed fork, so the loop runs in a child shell; exec adds no pid.
      const loop = 'sh -c "for i in \\$(seq 30); do sleep 1000 & done"; echo done; exec sleep 1000';
      const bundle = await env.bundle({ args: ['sh', '-c', loop], resources: { pids: { limit: 10 } } });
      await env.create(id, { bundle });
      await env.rt.start(id);
      const log = join(env.root, id, 'container.log');
      await until(() => readLog(log).some((l) => l.log === 'done\n'), 'the loop');
      const { pids } = await env.rt.stats(id);
      assert.equal(pids.limit, 10);
      // The shell, 8 sleeps, and the loop's shell that could fork no more (gone by now).
      assert.equal(pids.current, 9);
      assert.equal((await env.rt.ps(id)).length, 9);
      assert.ok(readLog(log).some((l) => l.stream === 'stderr' && /can't fork/.test(l.log)));
      await env.rt.delete(id, { force: true });
      await env.assertGone(id);
    });

    it('writes the cpu quota, and reports stats; pause and resume freeze and thaw', async () => {
      const id = env.newId();
      const bundle = await env.bundle({ args: ['sleep', '1000'], resources: { cpu: { quota: 50000, period: 100000 }, memory: { limit: 32 << 20 } } });
      await env.create(id, { bundle });
      await env.rt.start(id);
      assert.equal(readFileSync(`/sys/fs/cgroup/cpu/tsswarm/${id}/cpu.cfs_quota_us`, 'utf8').trim(), '50000');
      assert.equal(readFileSync(`/sys/fs/cgroup/cpu/tsswarm/${id}/cpu.cfs_period_us`, 'utf8').trim(), '100000');
      const inside = await env.rt.exec(id, { args: ['cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'] });
      assert.equal((await collect(inside.stdout)).trim(), '50000');
      assert.equal((await inside.wait()).exitCode, 0);
      const stats = await env.rt.stats(id);
      assert.equal(stats.memory.limit, 32 << 20);
      assert.ok(stats.pids.current >= 1);

      await env.rt.pause(id);
      assert.equal((await env.rt.state(id)).status, 'paused');
      assert.equal(readFileSync(`/sys/fs/cgroup/freezer/tsswarm/${id}/freezer.state`, 'utf8').trim(), 'FROZEN');
      await env.rt.resume(id);
      assert.equal((await env.rt.state(id)).status, 'running');
      assert.equal(readFileSync(`/sys/fs/cgroup/freezer/tsswarm/${id}/freezer.state`, 'utf8').trim(), 'THAWED');
      await env.rt.kill(id, 'SIGKILL');
      assert.equal((await env.rt.wait(id)).signal, 9);
      await env.rt.delete(id);
      await env.assertGone(id);
    });
  });

  describe('lifecycle', () => {
    it('create blocks the init until start; state follows created, running, stopped', async () => {
      const id = env.newId();
      const bundle = await env.bundle({ args: ['sh', '-c', 'echo started'] });
      await env.create(id, { bundle });
      const st = await env.rt.state(id);
      assert.equal(st.status, 'created');
      assert.ok(st.pid > 0);
      assert.deepEqual(readLog(join(env.root, id, 'container.log')), [], 'nothing ran before start');
      await env.rt.start(id);
      await assert.rejects(env.rt.start(id), /cannot start container .* in state/);
      await env.rt.wait(id);
      assert.equal((await env.rt.state(id)).status, 'stopped');
      assert.deepEqual(readLog(join(env.root, id, 'container.log')).map((l) => l.log), ['started\n']);
      assert.deepEqual((await env.rt.list()).find((s) => s.id === id)?.status, 'stopped');
      await env.rt.delete(id);
      await env.assertGone(id);
      await assert.rejects(env.rt.state(id), /does not exist/);
    });

    it('delivers signals: a handler exits with its code, SIGKILL ends it', async () => {
      const id = env.newId();
      const bundle = await env.bundle(
        { args: ['sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done'] },
      );
      await env.create(id, { bundle });
      await env.rt.start(id);
      const log = join(env.root, id, 'container.log');
      await until(() => readLog(log).some((l) => l.log === 'ready\n'), 'ready');
      await env.rt.kill(id, 'SIGTERM');
      const exit = await env.rt.wait(id);
      assert.equal(exit.exitCode, 7);
      assert.ok(readLog(log).some((l) => l.log === 'got TERM\n'));
      await env.rt.delete(id);
      await env.assertGone(id);

      const id2 = env.newId();
      await env.create(id2, { bundle: await env.bundle({ args: ['sleep', '1000'] }) });
      await env.rt.start(id2);
      await assert.rejects(env.rt.delete(id2), /not stopped: running/);
      await env.rt.kill(id2, 'SIGKILL');
      assert.deepEqual(await env.rt.wait(id2).then((e) => [e.exitCode, e.signal]), [137, 9]);
      await env.rt.delete(id2);
      await env.assertGone(id2);
    });

    it('delete --force kills a created or running container and removes everything', async () => {
      for (const started of [false, true]) {
        const id = env.newId();
        await env.create(id, { bundle: await env.bundle({ args: ['sleep', '1000'] }) });
        if (started) await env.rt.start(id);
        await env.rt.delete(id, { force: true });
        await env.assertGone(id);
      }
    });

    it('takes stdin from a pipe', async () => {
      const id = env.newId();
      const bundle = await env.bundle({ args: ['sh', '-c', 'read line; echo "got: $line"'] });
      const r = await env.rt.create(id, { bundle, stdin: 'pipe' });
      await env.rt.start(id);
      r.stdin!.end('hello stdin\n');
      assert.equal((await env.rt.wait(id)).exitCode, 0);
      assert.deepEqual(readLog(join(env.root, id, 'container.log')).map((l) => l.log), ['got: hello stdin\n']);
      await env.rt.delete(id);
    });
  });

  describe('exec', () => {
    it('joins all namespaces and the cgroup, with its own stdio and exit code', async () => {
      const id = env.newId();
      await env.create(id, { bundle: await env.bundle({ args: ['sleep', '1000'], hostname: 'exechost' }) });
      await env.rt.start(id);
      const { pid } = await env.rt.state(id);
      const h = await env.rt.exec(id, {
        args: ['sh', '-c', 'hostname; for n in pid uts ipc mnt net cgroup; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup | grep memory; read x; echo "in:$x"; echo err >&2; exit 5'],
      });
      h.stdin!.end('typed\n');
      const [out, err, res] = await Promise.all([collect(h.stdout), collect(h.stderr), h.wait()]);
      assert.equal(res.exitCode, 5);
      assert.equal(err, 'err\n');
      const lines = out.split('\n');
      assert.equal(lines[0], 'exechost');
      for (const [i, t] of ['pid', 'uts', 'ipc', 'mnt', 'net', 'cgroup'].entries()) {
        // pid: /proc/self/ns/pid of a process is its own pid namespace.
        assert.equal(lines[i + 1], readlinkSync(`/proc/${pid}/ns/${t}`), t);
      }
      assert.match(lines[7]!, /:memory:\/$/);
      assert.equal(lines[8], 'in:typed');

      // While an exec runs, it is in the container's cgroup (seen from the host).
      const long = await env.rt.exec(id, { args: ['sleep', '1000'] });
      await until(async () => (await env.rt.ps(id)).length === 2, 'exec in cgroup');
      const failed = await env.rt.exec(id, { args: ['/bin/nosuch'] });
      assert.deepEqual(await failed.wait(), { exitCode: 127, error: 'exec: /bin/nosuch: no such file or directory' });
      await env.rt.delete(id, { force: true });
      assert.equal((await long.wait()).exitCode, 137, 'the exec dies with the container');
      await env.assertGone(id);
    });
  });

  describe('monitor', () => {
    it('outlives its starter and records the exit status and logs', async () => {
      const id = env.newId();
      const bundle = await env.bundle({ args: ['sh', '-c', 'echo before; sleep 1000'] });
      // A separate Node process creates and starts the container, then we SIGKILL it.
      const script = `
        import { Runtime } from ${JSON.stringify(join(process.cwd(), 'runtime/driver.ts'))};
        const rt = new Runtime({ root: ${JSON.stringify(env.root)} });
        await rt.create(${JSON.stringify(id)}, { bundle: ${JSON.stringify(bundle)} });
        await rt.start(${JSON.stringify(id)});
        process.stdout.write('started\\n');
        setInterval(() => {}, 1000);
      `;
      const starter = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        starter.stdout.on('data', (d) => String(d).includes('started') && resolve());
        starter.on('exit', (c) => reject(new Error(`starter exited ${c}`)));
      });
      starter.kill('SIGKILL');
      await new Promise((r) => starter.once('exit', r));
      const state = JSON.parse(readFileSync(join(env.root, id, 'state.json'), 'utf8')) as { monitorPid: number };
      const monitorStat = readFileSync(`/proc/${state.monitorPid}/stat`, 'utf8');
      const ppid = Number(monitorStat.slice(monitorStat.lastIndexOf(')') + 2).split(' ')[1]);
      assert.notEqual(ppid, starter.pid, 'the monitor is not a child of its starter');
      assert.match(monitorStat, /\(tsbox-monitor\)/);
      assert.equal((await env.rt.state(id)).status, 'running');
      // The starter's fds (its stdout pipe) are not held by the monitor: the pipe saw EOF.
      await env.rt.kill(id, 'SIGKILL');
      const exit = await env.rt.wait(id); // through the state dir: we are not the starter
      assert.equal(exit.exitCode, 137);
      await until(() => !existsSync(`/proc/${state.monitorPid}`), 'monitor exit');
      assert.deepEqual(readLog(join(env.root, id, 'container.log')).map((l) => l.log), ['before\n']);
      await env.rt.delete(id);
      await env.assertGone(id);
    });
  });

  describe('root filesystem', () => {
    it('mounts an overlay of lower dirs with upper and work, leaving the lower untouched', async () => {
      const id = env.newId();
      const upper = join(env.work, `${id}-upper`);
      const work = join(env.work, `${id}-work`);
      const extra = join(env.work, `${id}-layer`);
      await mkdir(upper, { recursive: true });
      await mkdir(work, { recursive: true });
      await mkdir(join(extra, 'etc'), { recursive: true });
      await writeFile(join(extra, 'etc', 'layer.txt'), 'from the top layer\n');
      const bundle = await env.bundle({ args: ['sh', '-c', 'cat /etc/layer.txt; echo written > /new.txt; rm /bin/ls; awk \'$5 == "/" { print $9 }\' /proc/self/mountinfo'], readonlyRootfs: false, rootPath: 'rootfs' });
      await mkdir(join(bundle, 'rootfs'));
      await env.create(id, { bundle, rootfs: { lower: [extra, env.rootfs], upper, work } });
      await env.rt.start(id);
      assert.equal((await env.rt.wait(id)).exitCode, 0);
      const out = readLog(join(env.root, id, 'container.log')).map((l) => l.log).join('');
      assert.equal(out, 'from the top layer\noverlay\n');
      assert.equal(readFileSync(join(upper, 'new.txt'), 'utf8'), 'written\n');
      assert.ok(existsSync(join(env.rootfs, 'bin/ls')), 'lower untouched');
      await env.rt.delete(id);
      await env.assertGone(id);
    });
  });

  describe('namespaces and mounts from the spec', () => {
    it('joins a network namespace given by path', async () => {
      const name = `${env.tag}-net`;
      await run('ip', ['netns', 'add', name]);
      try {
        const nsPath = `/run/netns/${name}`;
        const r = await env.run({ args: ['readlink', '/proc/self/ns/net'], netns: nsPath });
        assert.equal(r.exit.exitCode, 0);
        const id = /net:\[(\d+)\]/.exec(r.stdout)?.[1];
        assert.equal(Number(id), statSync(nsPath).ino, 'the container is in the given namespace');
      } finally {
        await run('ip', ['netns', 'del', name]);
      }
    });

    it('applies bind and tmpfs mounts in order, with their options', async () => {
      const src = join(env.work, 'bindsrc');
      // The tmpfs mount point must exist: the bind above it is read-only by then (as under runc).
      await mkdir(join(src, 'scratch'), { recursive: true });
      await writeFile(join(src, 'hello.txt'), 'from the host\n');
      const r = await env.run({
        args: ['sh', '-c', 'cat /mnt/hello.txt; touch /mnt/x 2>/dev/null && echo data-rw || echo data-ro; touch /mnt/scratch/y && echo scratch-rw; grep -E " /mnt(/scratch)? " /proc/self/mountinfo | cut -d" " -f5,6'],
        mounts: [
          { destination: '/mnt', type: 'bind', source: src, options: ['rbind', 'ro'] },
          { destination: '/mnt/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'nosuid'] },
        ],
      });
      assert.equal(r.exit.exitCode, 0);
      const lines = r.stdout.trim().split('\n');
      assert.deepEqual(lines.slice(0, 3), ['from the host', 'data-ro', 'scratch-rw']);
      assert.match(lines[3]!, /^\/mnt ro,/);
      assert.match(lines[4]!, /^\/mnt\/scratch rw,nosuid/);
      assert.equal(existsSync(join(src, 'x')), false);
    });
  });

  describe('init and user namespace', () => {
    it('an init as PID 1 forwards signals and reaps zombies', async () => {
      const id = env.newId();
      const bundle = await env.bundle({ args: ['sh', '-c', 'echo ready; exec sleep 1000'] });
      await env.create(id, { bundle, init: true });
      await env.rt.start(id);
      await until(() => readLog(join(env.root, id, 'container.log')).length > 0, 'ready');
      const h = await env.rt.exec(id, { args: ['sh', '-c', 'cat /proc/1/comm; sh -c "sleep 0 & exec sleep 0.2"; grep -l "^State:.*Z" /proc/[0-9]*/status | wc -l'] });
      const out = await collect(h.stdout);
      assert.deepEqual(out.split('\n').slice(0, 2), ['tsswarm-init', '0']);
      // sleep is not PID 1 here, so SIGTERM (forwarded by the init) ends it.
      await env.rt.kill(id, 'SIGTERM');
      const exit = await env.rt.wait(id);
      assert.equal(exit.exitCode, 143, 'the init exits 128+SIGTERM, like tini');
      await env.rt.delete(id);
      await env.assertGone(id);
    });

    it('runs in a user namespace with uid and gid maps', async () => {
      const id = env.newId();
      const bundle = await env.bundle({ args: ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; echo ready; sleep 1000'], userns: { hostID: 200000, size: 65536 } });
      await env.create(id, { bundle });
      await env.rt.start(id);
      const log = join(env.root, id, 'container.log');
      await until(() => readLog(log).some((l) => l.log === 'ready\n'), 'ready');
      const out = readLog(log).map((l) => l.log.replace(/\s+/g, ' ').trim());
      assert.deepEqual(out.slice(0, 3), ['0 200000 65536', '0 200000 65536', '0']);
      const { pid } = await env.rt.state(id);
      assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+200000\s/m, 'root inside is 200000 outside');
      const h = await env.rt.exec(id, { args: ['sh', '-c', 'id -u; cat /proc/self/uid_map'] });
      const [execOut, res] = await Promise.all([collect(h.stdout), h.wait()]);
      assert.equal(res.exitCode, 0);
      assert.deepEqual(execOut.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).slice(0, 2), ['0', '0 200000 65536'], 'exec joins the user namespace');
      await env.rt.delete(id, { force: true });
      await env.assertGone(id);
    });
  });
});
