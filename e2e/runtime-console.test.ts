// Issue 12 §4 and §7 for terminals: `tsswarm-runtime create --console-socket` hands the pty master to
// a listening unix socket as runc does (received here by a small Python receiver: Node cannot take an
// SCM_RIGHTS fd), and a terminal container outlives its monitor as a piped one does (the keeper holds
// a copy of the master).
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeEnv, readLog, until } from './fixtures/runtime.js';
import { RuntimeCli } from './fixtures/runtime-cli.js';

const env = new RuntimeEnv();
const cli = new RuntimeCli(env.work, env.root);

// Accepts one connection, takes the fd passed with it, says what it is, types a line into it and
// copies what the terminal shows to stdout until the pty's last slave is gone (EIO).
const RECEIVER = `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 16, 4)
print("fds", len(fds), "tty", os.isatty(fds[0]), flush=True)
m = fds[0]
os.write(m, b"typed-in\\n")
while True:
    try:
        d = os.read(m, 4096)
    except OSError:
        break
    if not d:
        break
    sys.stdout.write(d.decode(errors="replace")); sys.stdout.flush()
print("\\nreceiver-done", flush=True)
`;

interface Receiver {
  proc: ChildProcess;
  out: () => string;
  done: Promise<void>;
}

async function startReceiver(path: string): Promise<Receiver> {
  const proc = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const done = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await until(() => out.includes('ready') || proc.exitCode !== null, 'the console receiver to listen');
  assert.match(out, /ready/);
  return { proc, out: () => out, done };
}

describe('runtime console socket and terminal keeper (e2e)', function () {
  this.timeout(60_000);
  const receivers: ChildProcess[] = [];
  before(async () => {
    await env.setup();
    await cli.build();
  });
  after(async () => {
    for (const r of receivers) if (r.exitCode === null) r.kill('SIGKILL');
    await env.cleanup();
  });

  it('create --console-socket sends the pty master; the listener drives the terminal', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['sh', '-c', 'tty; read line; echo "got-$line"; exit 3'] }, (s) => {
      s.process!.terminal = true;
    });
    const sock = join(env.work, `${id}.console`);
    const rcv = await startReceiver(sock);
    receivers.push(rcv.proc);
    const c = await cli.run(['create', '--console-socket', sock, '--bundle', bundle, id]);
    assert.equal(c.code, 0, c.stderr);
    await until(() => rcv.out().includes('fds'), 'the receiver to get the master');
    assert.match(rcv.out(), /fds 1 tty True/);
    assert.equal((await cli.run(['start', id])).code, 0);
    await rcv.done;
    // The terminal echoes what was typed, then the process answers: it read from the pty we were given.
    assert.match(rcv.out(), /\/dev\/pts\/0\r?\n/);
    assert.match(rcv.out(), /got-typed-in/);
    await until(async () => JSON.parse((await cli.run(['state', id])).stdout).status === 'stopped', 'the container to stop');
    assert.equal((await cli.run(['delete', id])).code, 0);
    assert.equal(existsSync(join(env.root, id)), false);
  });

  it('refuses a console socket without a terminal, and one nobody listens on, leaving nothing', async () => {
    const plain = env.newId();
    const bundle = await env.bundle({ args: ['true'] });
    const r1 = await cli.run(['create', '--console-socket', join(env.work, 'nobody'), '--bundle', bundle, plain]);
    assert.notEqual(r1.code, 0);
    assert.match(r1.stderr, /process\.terminal: a console socket needs "terminal": true/);
    assert.equal(existsSync(join(env.root, plain)), false);

    const tty = env.newId();
    const ttyBundle = await env.bundle({ args: ['true'] }, (s) => {
      s.process!.terminal = true;
    });
    const missing = join(env.work, 'nobody-listens');
    const r2 = await cli.run(['create', '--console-socket', missing, '--bundle', ttyBundle, tty]);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, new RegExp(`console socket ${missing}: connect: .*a unix stream socket must be listening there`));
    assert.equal(existsSync(join(env.root, tty)), false, 'a failed create left its state');
  });

  it('a terminal container outlives its monitor: no hang-up, and its output still reaches the log', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['sh', '-c', 'i=0; while [ $i -lt 400 ]; do echo "tick-$i"; i=$((i+1)); sleep 0.05; done; echo finished'] }, (s) => {
      s.process!.terminal = true;
    });
    await env.create(id, { bundle });
    await env.rt.start(id);
    const st = await env.rt.state(id);
    const pid = st.pid;
    const logPath = join(env.root, id, 'container.log');
    await until(() => readLog(logPath).some((l) => l.log.startsWith('tick-3')), 'the first ticks in the log');
    const monitor = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)]).toString().trim());
    assert.match(execFileSync('ps', ['-o', 'comm=', '-p', String(monitor)]).toString(), /tsbox-monitor/);
    const keeper = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(monitor)]).toString();
    assert.match(keeper, /tsbox-keeper/, 'a terminal container has no keeper');
    process.kill(monitor, 'SIGKILL');
    await until(() => !existsSync(`/proc/${monitor}`), 'the monitor to go');
    const before = readLog(logPath).length;
    // Lines written after the monitor died reach the log through the keeper, and the process lives on.
    await until(() => readLog(logPath).length >= before + 10, 'ticks written after the monitor died');
    assert.ok(existsSync(`/proc/${pid}`), 'the container died with its monitor (hang-up of its terminal)');
    await until(() => readLog(logPath).some((l) => l.log.startsWith('finished')), 'the container to finish writing');
    const ticks = readLog(logPath).filter((l) => l.log.startsWith('tick-'));
    assert.match(ticks.at(-1)!.log, /^tick-399\r?\n$/);
    // At most a part of a line the monitor had read but not yet logged dies with it.
    assert.ok(ticks.length >= 399, `only ${ticks.length} of 400 lines reached the log`);
    await env.rt.delete(id, { force: true });
  });
});
