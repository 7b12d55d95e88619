// tsswarm-runtime, the runc-compatible command line, driven as OCI tooling would drive runc.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RuntimeEnv, until } from './fixtures/runtime.js';
import { RuntimeCli } from './fixtures/runtime-cli.js';

const env = new RuntimeEnv();
const cli = new RuntimeCli(env.work, env.root);

interface State {
  id: string;
  status: string;
  pid: number;
  bundle: string;
  ociVersion: string;
}

async function state(id: string): Promise<State> {
  const r = await cli.run(['state', id]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as State;
}

function cgroupGone(id: string): void {
  for (const c of ['memory', 'pids', 'cpu', 'freezer']) assert.equal(existsSync(`/sys/fs/cgroup/${c}/tsswarm/${id}`), false, c);
}

describe('tsswarm-runtime CLI (e2e)', () => {
  before(async () => {
    await env.setup();
    await cli.build();
  });
  after(async () => {
    await env.cleanup();
  });

  it('create, state, start, ps, exec, kill, list, delete', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['sleep', '1000'], hostname: 'clibox' });
    const pidFile = join(env.work, `${id}.pid`);
    const c = await cli.run(['create', '--bundle', bundle, '--pid-file', pidFile, id]);
    assert.equal(c.code, 0, c.stderr);
    const s1 = await state(id);
    assert.equal(s1.status, 'created');
    assert.equal(s1.ociVersion, '1.0.2');
    assert.equal(s1.bundle, bundle);
    assert.equal(readFileSync(pidFile, 'utf8'), String(s1.pid));

    assert.equal((await cli.run(['start', id])).code, 0);
    assert.equal((await state(id)).status, 'running');
    const ps = await cli.run(['ps', '--format', 'json', id]);
    assert.deepEqual(JSON.parse(ps.stdout), [s1.pid]);
    // As runc: the host's ps (default -ef), its header, then only the container's rows.
    const psTable = await cli.run(['ps', id]);
    const psLines = psTable.stdout.trimEnd().split('\n');
    assert.match(psLines[0]!, /^UID\s+PID\s+PPID\b.*CMD$/);
    assert.equal(psLines.length, 2, psTable.stdout);
    assert.match(psLines[1]!, new RegExp(`^\\S+\\s+${s1.pid}\\s.*sleep 1000$`));
    // Options after the id are ps's, not ours.
    const psOpts = await cli.run(['ps', id, '-o', 'pid,comm']);
    assert.equal(psOpts.code, 0, psOpts.stderr);
    assert.deepEqual(psOpts.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)), [['PID', 'COMMAND'], [String(s1.pid), 'sleep']]);

    const ex = await cli.run(['exec', '-e', 'X=42', id, 'sh', '-c', 'echo $X $(hostname); exit 4']);
    assert.equal(ex.code, 4);
    assert.equal(ex.stdout, '42 clibox\n');
    const missing = await cli.run(['exec', id, '/bin/nosuch']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /exec: \/bin\/nosuch: no such file or directory/);
    const withStdin = await cli.run(['exec', id, 'cat'], { stdin: 'piped in\n' });
    assert.equal(withStdin.stdout, 'piped in\n');

    const list = await cli.run(['list', '--format', 'json']);
    assert.deepEqual((JSON.parse(list.stdout) as State[]).map((s) => [s.id, s.status]), [[id, 'running']]);
    const table = await cli.run(['list']);
    assert.match(table.stdout, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/m);

    const del = await cli.run(['delete', id]);
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /not stopped: running/);
    assert.equal((await cli.run(['kill', id, 'KILL'])).code, 0);
    await until(async () => (await state(id)).status === 'stopped', 'stopped');
    assert.equal((await cli.run(['delete', id])).code, 0);
    assert.equal(existsSync(join(env.root, id)), false);
    cgroupGone(id);
    const gone = await cli.run(['state', id]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /does not exist/);
  });

  it('run in the foreground: stdio passes through, exit code comes back, the container is removed', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['sh', '-c', 'echo out; echo err >&2; exit 42'] });
    const r = await cli.run(['run', '--bundle', bundle, id]);
    assert.equal(r.code, 42);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(existsSync(join(env.root, id)), false);
    cgroupGone(id);
  });

  it('run -d, then kill with a signal name, then delete --force', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['sh', '-c', 'trap "exit 9" USR1; while :; do sleep 0.05; done'] });
    const r = await cli.run(['run', '-d', '--bundle', bundle, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await state(id)).status, 'running');
    assert.equal((await cli.run(['pause', id])).code, 0);
    assert.equal((await state(id)).status, 'paused');
    assert.equal((await cli.run(['resume', id])).code, 0);
    assert.equal((await cli.run(['kill', id, 'SIGUSR1'])).code, 0);
    await until(async () => (await state(id)).status === 'stopped', 'stopped');
    assert.equal(JSON.parse(readFileSync(join(env.root, id, 'exit'), 'utf8')).exitCode, 9);
    assert.equal((await cli.run(['delete', '--force', id])).code, 0);
    cgroupGone(id);

    const id2 = env.newId();
    assert.equal((await cli.run(['run', '-d', '--bundle', await env.bundle({ args: ['sleep', '1000'] }), id2])).code, 0);
    assert.equal((await cli.run(['delete', '-f', id2])).code, 0);
    assert.equal(existsSync(join(env.root, id2)), false);
    cgroupGone(id2);
  });

  it('bad config: non-zero exit, an error naming the field, nothing left behind', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['true'] }, (s) => {
      s.mounts!.push({ destination: '/x', type: 'weirdfs', source: 'x' });
    });
    const r = await cli.run(['create', '--bundle', bundle, id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /mounts\[7\]\.type: unknown mount type "weirdfs"/);
    assert.equal(existsSync(join(env.root, id)), false);
    cgroupGone(id);

    const bad = join(env.work, 'notjson');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'config.json'), 'not json');
    const r2 = await cli.run(['run', '--bundle', bad, env.newId()]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /config\.json: not valid JSON/);

    const r3 = await cli.run(['run', '--bundle', await env.bundle({ args: ['/bin/nosuch'] }), env.newId()]);
    assert.equal(r3.code, 127);
    assert.match(r3.stderr, /exec: \/bin\/nosuch: no such file or directory/);
  });

  it('matches runc: exec --pid-file, delete of missing/created, events --stats, --log, list owner, messages', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['sleep', '1000'] });
    // delete of a created container kills its waiting init, without --force.
    assert.equal((await cli.run(['create', '--bundle', bundle, id])).code, 0);
    const delCreated = await cli.run(['delete', id]);
    assert.equal(delCreated.code, 0, delCreated.stderr);
    assert.equal(existsSync(join(env.root, id)), false);
    cgroupGone(id);
    // Missing: --force is a silent no-op, without it an error.
    const delMissing = await cli.run(['delete', '--force', id]);
    assert.deepEqual([delMissing.code, delMissing.stderr], [0, '']);
    const delMissing2 = await cli.run(['delete', id]);
    assert.equal(delMissing2.code, 1);
    assert.match(delMissing2.stderr, /does not exist/);

    assert.equal((await cli.run(['run', '-d', '--bundle', bundle, id])).code, 0);
    const init = (await state(id)).pid;
    // exec --pid-file, attached: written once the process has started, before it is waited for.
    const pf = join(env.work, `${id}.exec.pid`);
    const ex = await cli.run(['exec', '--pid-file', pf, id, 'sleep', '0.3']);
    assert.equal(ex.code, 0, ex.stderr);
    const attachedPid = Number(readFileSync(pf, 'utf8'));
    assert.ok(attachedPid > 0 && attachedPid !== init, String(attachedPid));
    // Detached: the pid is that of a process in the container.
    const pf2 = join(env.work, `${id}.exec2.pid`);
    const exd = await cli.run(['exec', '-d', '--pid-file', pf2, id, 'sleep', '1000']);
    assert.equal(exd.code, 0, exd.stderr);
    const execPid = Number(readFileSync(pf2, 'utf8'));
    assert.notEqual(execPid, init);
    assert.deepEqual(JSON.parse((await cli.run(['ps', '--format', 'json', id])).stdout), [init, execPid].sort((a, b) => a - b));
    assert.match(readFileSync(`/proc/${execPid}/cmdline`, 'utf8'), /^sleep\x001000\x00$/);

    const ev = await cli.run(['events', '--stats', id]);
    assert.equal(ev.code, 0, ev.stderr);
    const e = JSON.parse(ev.stdout) as { type: string; id: string; data: { cpu: { usage: { total: number } }; memory: { usage: { usage: number; limit: number } }; pids: { current: number; limit: number } } };
    assert.equal(e.type, 'stats');
    assert.equal(e.id, id);
    assert.ok(e.data.cpu.usage.total > 0);
    assert.ok(e.data.memory.usage.usage > 0);
    assert.equal(typeof e.data.memory.usage.limit, 'number');
    assert.equal(e.data.pids.current, 2);
    const evStream = await cli.run(['events', id]);
    assert.equal(evStream.code, 1);
    assert.match(evStream.stderr, /only --stats is supported/);

    const list = await cli.run(['list', '--format', 'json']);
    assert.equal((JSON.parse(list.stdout) as { owner: string }[])[0]!.owner, 'root');

    // Bad signals: runc's message, exit 1, no usage text; logged to --log as json lines.
    const log = join(env.work, `${id}.log.json`);
    const bogus = await cli.run(['--log', log, '--log-format', 'json', 'kill', id, 'BOGUS']);
    assert.equal(bogus.code, 1);
    assert.equal(bogus.stderr, 'tsswarm-runtime: unknown signal "BOGUS"\n');
    const entry = JSON.parse(readFileSync(log, 'utf8')) as { level: string; msg: string; time: string };
    assert.deepEqual([entry.level, entry.msg], ['error', 'unknown signal "BOGUS"']);
    assert.ok(!Number.isNaN(Date.parse(entry.time)));
    const textLog = join(env.work, `${id}.log.txt`);
    await cli.run(['--log', textLog, 'kill', id, '99']);
    assert.match(readFileSync(textLog, 'utf8'), /^time="[^"]+" level=error msg="invalid signal 99: signals are 1 to 64"\n$/);
    const k99 = await cli.run(['kill', id, '99']);
    assert.equal(k99.code, 1);
    assert.match(k99.stderr, /invalid signal 99/);

    const badProc = join(env.work, `${id}.bad.json`);
    await writeFile(badProc, '{bad');
    const bp = await cli.run(['exec', '-p', badProc, id]);
    assert.equal(bp.code, 1);
    assert.ok(bp.stderr.includes(`${badProc}: not valid JSON`), bp.stderr);

    // Running: delete still needs --force.
    assert.match((await cli.run(['delete', id])).stderr, /not stopped: running/);
    assert.equal((await cli.run(['delete', '--force', id])).code, 0);
    assert.equal(existsSync(`/proc/${execPid}`), false);
    cgroupGone(id);

    const help = await cli.run(['spec', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /spec\s+\[--bundle DIR\]/);
  });

  it('writes a default spec', async () => {
    const dir = join(env.work, 'spec');
    await mkdir(dir, { recursive: true });
    assert.equal((await cli.run(['spec', '--bundle', dir])).code, 0);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(spec.root.path, 'rootfs');
    assert.equal(spec.process.capabilities.bounding.length, 14);
  });
});
