// Issue 13's container verbs through our CLI (and Docker's, where the machine has it): update (live,
// in the cgroup, and persisted), diff, export, commit with --change, import, the extra ps filters,
// and stop/rm of several containers at once.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useBusyboxDaemon } from './helpers/busybox.js';

const run = promisify(execFile);

/** The real docker CLI when installed (never dockerd); undefined otherwise. */
function dockerCli(): string | undefined {
  for (const p of ['/usr/local/bin/docker', '/usr/bin/docker']) if (existsSync(p)) return p;
  return undefined;
}

/** The container's cgroup file, v1 or v2 (whichever the daemon used), read through its init's /proc entry. */
function cgroupFile(pid: number, v1Controller: string, v1File: string, v2File: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes(v1Controller));
  if (v1 && v1.split(':')[2] !== '/') {
    const path = v1.split(':')[2]!;
    const mount = `/sys/fs/cgroup/${v1Controller}`;
    if (existsSync(join(mount, path, v1File))) return readFileSync(join(mount, path, v1File), 'utf8').trim();
  }
  const v2 = lines.find((l) => l.startsWith('0::'))!;
  return readFileSync(join('/sys/fs/cgroup', v2.slice(3), v2File), 'utf8').trim();
}

describe('e2e: container verbs (update, diff, export, commit, import, ps filters, stop/rm of many)', function () {
  const b = useBusyboxDaemon('/tmp/tsswarm-verbs-');
  const docker = dockerCli();
  const dockerRun = async (args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => {
    try {
      const r = await run(docker!, args, { env: { ...process.env, DOCKER_HOST: b.d.host }, maxBuffer: 64 << 20 });
      return { stdout: r.stdout, stderr: r.stderr, code: 0 };
    } catch (e) {
      const x = e as { stdout?: string; stderr?: string; code?: number };
      return { stdout: x.stdout ?? '', stderr: x.stderr ?? '', code: typeof x.code === 'number' ? x.code : 1 };
    }
  };
  const pidOf = async (name: string): Promise<number> => Number((await b.cli(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim());

  it('update changes memory, pids and cpu limits live in the cgroup and persists them with the restart policy', async function () {
    assert.equal((await b.cli(['run', '-d', '--name', 'upd', '-m', '64m', 'busybox', 'sleep', '3600'])).code, 0);
    const pid = await pidOf('upd');
    assert.equal(cgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(64 * 1024 * 1024));
    const r = await b.cli(['update', '-m', '96m', '--memory-swap', '192m', '--pids-limit', '50', '--cpus', '0.5', '--restart', 'on-failure:3', 'upd']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'upd');
    assert.equal(cgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(96 * 1024 * 1024));
    assert.equal(cgroupFile(pid, 'pids', 'pids.max', 'pids.max'), '50');
    const quota = cgroupFile(pid, 'cpu', 'cpu.cfs_quota_us', 'cpu.max').split(' ')[0];
    assert.equal(quota, '50000');
    const hc = JSON.parse((await b.cli(['inspect', '-f', '{{json .HostConfig}}', 'upd'])).stdout) as Record<string, unknown>;
    assert.equal(hc.Memory, 96 * 1024 * 1024);
    assert.equal(hc.PidsLimit, 50);
    assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    // Lifting the pids limit writes "max", not "leave as is".
    assert.equal((await b.cli(['update', '--pids-limit', '-1', 'upd'])).code, 0);
    assert.equal(cgroupFile(pid, 'pids', 'pids.max', 'pids.max'), 'max');
    // Refusals name what is wrong and change nothing.
    const bad = await b.cli(['update', '-m', '1m', 'upd']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);
    assert.equal(cgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(96 * 1024 * 1024));
    // A stopped container's update is persisted and used at the next start.
    assert.equal((await b.cli(['rm', '-f', 'upd'])).code, 0);
    assert.equal((await b.cli(['create', '--name', 'upd2', 'busybox', 'sleep', '3600'])).code, 0);
    assert.equal((await b.cli(['update', '-m', '80m', 'upd2'])).code, 0);
    assert.equal((await b.cli(['start', 'upd2'])).code, 0);
    assert.equal(cgroupFile(await pidOf('upd2'), 'memory', 'memory.limit_in_bytes', 'memory.max'), String(80 * 1024 * 1024));
    assert.equal((await b.cli(['rm', '-f', 'upd2'])).code, 0);
  });

  it('diff lists A/C/D from the upper dir, deletions included', async function () {
    const r = await b.cli(['run', '--name', 'chg', 'busybox', 'sh', '-c', 'echo x > /tmp/new && rm /bin/true && mkdir -p /srv/a && touch /srv/a/f']);
    assert.equal(r.code, 0, r.stderr);
    const d = await b.cli(['diff', 'chg']);
    assert.equal(d.code, 0, d.stderr);
    const lines = d.stdout.trim().split('\n');
    for (const want of ['C /tmp', 'A /tmp/new', 'C /bin', 'D /bin/true', 'A /srv', 'A /srv/a', 'A /srv/a/f']) assert.ok(lines.includes(want), `${want} missing from:\n${d.stdout}`);
  });

  it('export of a created container is a tar of its whole root; import makes it an image again, with --change', async function () {
    const created = await b.cli(['create', 'busybox']);
    assert.equal(created.code, 0, created.stderr);
    const id = created.stdout.trim();
    const tar = join(b.work, 'root.tar');
    const ex = await b.cli(['export', '-o', tar, id]);
    assert.equal(ex.code, 0, ex.stderr);
    const names = (await run('tar', ['-tf', tar], { maxBuffer: 64 << 20 })).stdout.split('\n');
    assert.ok(names.includes('bin/busybox'), `bin/busybox not in the export: ${names.slice(0, 10).join(' ')}`);
    const im = await b.cli(['import', '-c', 'CMD ["/bin/echo", "from-import"]', '-m', 'imported here', tar, 'imported:v1']);
    assert.equal(im.code, 0, im.stderr);
    assert.match(im.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const out = await b.cli(['run', '--rm', 'imported:v1']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), 'from-import');
    const hist = await b.cli(['history', '--format', '{{.Comment}}', 'imported:v1']);
    assert.match(hist.stdout, /imported here/);
    // A bad change is refused before anything is stored.
    const bad = await b.cli(['import', '-c', 'RUN true', tar, 'imported:bad']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /RUN is not a valid change command/);
  });

  it('commit keeps the container changes (deletions too) and applies --change, -m, -a', async function () {
    assert.equal((await b.cli(['run', '-d', '--name', 'tocommit', 'busybox', 'sh', '-c', 'echo kept > /data.txt && rm /bin/true && sleep 3600'])).code, 0);
    // Bounded wait for the shell's first commands (by count, not time).
    for (let i = 0; i < 100; i++) {
      if ((await b.cli(['diff', 'tocommit'])).stdout.includes('D /bin/true')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const c = await b.cli(['commit', '-c', 'ENV FROM_COMMIT=yes', '-c', 'CMD ["cat", "/data.txt"]', '-m', 'a message', '-a', 'someone', 'tocommit', 'committed:1']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout.trim(), /^sha256:/);
    assert.equal((await b.cli(['inspect', '-f', '{{.State.Status}}', 'tocommit'])).stdout.trim(), 'running', 'the commit pause must be undone');
    const out = await b.cli(['run', '--rm', 'committed:1']);
    assert.equal(out.stdout.trim(), 'kept');
    const env = await b.cli(['run', '--rm', 'committed:1', 'sh', '-c', 'echo $FROM_COMMIT; test -e /bin/true && echo present || echo gone']);
    assert.deepEqual(env.stdout.trim().split('\n'), ['yes', 'gone']);
    const author = await b.cli(['inspect', '-f', '{{.Author}}|{{.Comment}}', 'committed:1']);
    assert.equal(author.code, 0, author.stderr);
    assert.match(author.stdout, /someone/);
    assert.equal((await b.cli(['rm', '-f', 'tocommit'])).code, 0);
  });

  it('ps filters publish, expose, before, since, volume and is-task as Docker does', async function () {
    assert.equal((await b.cli(['run', '-d', '--name', 'f1', '-p', '127.0.0.1::8080', 'busybox', 'sleep', '3600'])).code, 0);
    assert.equal((await b.cli(['run', '-d', '--name', 'f2', '--expose', '9090/udp', '-v', 'fvol:/fdata', 'busybox', 'sleep', '3600'])).code, 0);
    assert.equal((await b.cli(['run', '-d', '--name', 'f3', 'busybox', 'sleep', '3600'])).code, 0);
    const names = async (...f: string[]): Promise<string[]> => {
      const r = await b.cli(['ps', '-a', ...f.flatMap((x) => ['--filter', x]), '--format', '{{.Names}}']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split('\n').filter((n) => /^f\d$/.test(n)).sort();
    };
    assert.deepEqual(await names('publish=8080'), ['f1']);
    assert.deepEqual(await names('publish=8000-8100/tcp'), ['f1']);
    assert.deepEqual(await names('expose=9090/udp'), ['f2']);
    assert.deepEqual(await names('expose=9090'), []);
    assert.deepEqual(await names('before=f3'), ['f1', 'f2']);
    assert.deepEqual(await names('since=f1'), ['f2', 'f3']);
    assert.deepEqual(await names('volume=fvol'), ['f2']);
    assert.deepEqual(await names('volume=/fdata'), ['f2']);
    assert.deepEqual(await names('is-task=false'), ['f1', 'f2', 'f3']);
    assert.deepEqual(await names('is-task=true'), []);
    const bad = await b.cli(['ps', '--filter', 'publish=http']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /publish=http/);
    const missing = await b.cli(['ps', '--filter', 'before=nosuch']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such container: nosuch/);
  });

  it('stop and rm -f act on all the containers at once, with per-container errors and exit 1', async function () {
    const st = await b.cli(['stop', 'f1', 'nosuch', 'f2', 'f3']);
    assert.equal(st.code, 1);
    assert.deepEqual(st.stdout.trim().split('\n'), ['f1', 'f2', 'f3']);
    assert.match(st.stderr, /No such container: nosuch/);
    for (const n of ['f1', 'f2', 'f3']) assert.equal((await b.cli(['inspect', '-f', '{{.State.Status}}', n])).stdout.trim(), 'exited');
    const rm = await b.cli(['rm', '-f', 'f1', 'f2', 'nosuch2', 'f3']);
    assert.equal(rm.code, 1);
    assert.deepEqual(rm.stdout.trim().split('\n'), ['f1', 'f2', 'f3']);
    assert.match(rm.stderr, /nosuch2/);
  });

  it('the docker CLI drives update, diff, export, commit and import', async function () {
    if (!docker) this.skip(); // no docker CLI on this machine (dockerd is never started)
    assert.equal((await b.cli(['run', '-d', '--name', 'dk', 'busybox', 'sh', '-c', 'touch /dk && sleep 3600'])).code, 0);
    const u = await dockerRun(['update', '--memory', '70m', '--memory-swap', '140m', 'dk']);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(cgroupFile(await pidOf('dk'), 'memory', 'memory.limit_in_bytes', 'memory.max'), String(70 * 1024 * 1024));
    for (let i = 0; i < 100; i++) {
      if ((await b.cli(['diff', 'dk'])).stdout.includes('A /dk')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const d = await dockerRun(['diff', 'dk']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^A \/dk$/m);
    const tar = join(b.work, 'dk.tar');
    const ex = await dockerRun(['export', '-o', tar, 'dk']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.ok((await run('tar', ['-tf', tar], { maxBuffer: 64 << 20 })).stdout.split('\n').includes('dk'));
    const cm = await dockerRun(['commit', '--change', 'CMD ["ls", "/dk"]', 'dk', 'dkimg:1']);
    assert.equal(cm.code, 0, cm.stderr);
    assert.equal((await b.cli(['run', '--rm', 'dkimg:1'])).stdout.trim(), '/dk');
    const im = await dockerRun(['import', '--change', 'CMD ["ls", "/dk"]', tar, 'dkimp:1']);
    assert.equal(im.code, 0, im.stderr);
    assert.equal((await b.cli(['run', '--rm', 'dkimp:1'])).stdout.trim(), '/dk');
    // ps filters and several containers at once, through Docker's CLI.
    for (const n of ['dk1', 'dk2']) assert.equal((await b.cli(['run', '-d', '--name', n, '-p', '127.0.0.1::7070', 'busybox', 'sleep', '3600'])).code, 0);
    const since = await dockerRun(['ps', '--filter', 'since=dk', '--filter', 'publish=7070', '--format', '{{.Names}}']);
    assert.equal(since.code, 0, since.stderr);
    assert.deepEqual(since.stdout.trim().split('\n').sort(), ['dk1', 'dk2']);
    const stop = await dockerRun(['stop', 'dk1', 'nosuch', 'dk2']);
    assert.equal(stop.code, 1);
    assert.match(stop.stderr, /nosuch/);
    for (const n of ['dk1', 'dk2']) assert.equal((await b.cli(['inspect', '-f', '{{.State.Status}}', n])).stdout.trim(), 'exited');
    const rm = await dockerRun(['rm', '-f', 'dk', 'dk1', 'dk2']);
    assert.equal(rm.code, 0, rm.stderr);
  });
});
