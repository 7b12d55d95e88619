// Terminals, the attach socket and monitor-held stdin, through the runtime driver on the real kernel.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AttachConnection } from '../runtime/attach.js';
import { RuntimeEnv, readLog } from './fixtures/runtime.js';

const env = new RuntimeEnv();

/** Collects an attach connection's output (by stream) until the monitor hangs up. */
function gather(a: AttachConnection): { out: () => string; err: () => string; ended: Promise<void> } {
  let out = '';
  let err = '';
  a.onOutput((stream, data) => {
    if (stream === 2) err += data.toString();
    else out += data.toString();
  });
  return { out: () => out, err: () => err, ended: a.ended };
}

async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `stty size` of a process's stdin terminal, read from the host; '' once it is gone. */
function ttySize(pid: number): string {
  try {
    return execFileSync('stty', ['-F', `/proc/${pid}/fd/0`, 'size'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

describe('runtime terminals and attach (e2e)', function () {
  before(async () => {
    await env.setup();
  });
  after(async () => {
    await env.cleanup();
  });

  it('gives a terminal process /dev/pts/0 as its controlling tty; output reaches attach clients and the log', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['sh', '-c', 'tty; stty size; echo "$(ps -o tty= -p 1 2>/dev/null)"; exit 4'] }, (s) => {
      s.process!.terminal = true;
      s.process!.consoleSize = { height: 33, width: 111 };
    });
    await env.create(id, { bundle });
    // Two clients before start: both must see everything.
    const a = gather(await env.rt.attach(id));
    const b = gather(await env.rt.attach(id));
    await env.rt.start(id);
    const exit = await env.rt.wait(id);
    await Promise.all([a.ended, b.ended]);
    assert.equal(exit.exitCode, 4);
    assert.match(a.out(), /^\/dev\/pts\/0\r\n33 111\r\n/);
    assert.equal(b.out(), a.out());
    assert.equal(a.err(), '');
    const log = readLog(join(env.root, id, 'container.log'));
    assert.ok(log.every((l) => l.stream === 'stdout'));
    assert.match(log.map((l) => l.log).join(''), /^\/dev\/pts\/0\r\n33 111\r\n/);
    await env.rt.delete(id);
    await env.assertGone(id);
  });

  it('takes input and resizes through the attach socket', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['sh', '-c', 'read line; echo "got $line"; read x; stty size; exit 0'] }, (s) => {
      s.process!.terminal = true;
    });
    await env.create(id, { bundle });
    const conn = await env.rt.attach(id);
    const a = gather(conn);
    await env.rt.start(id);
    conn.write(Buffer.from('hello\r'));
    await waitFor(() => a.out().includes('got hello'), '"got hello"');
    conn.resize(24, 91);
    conn.write(Buffer.from('\r'));
    await a.ended;
    assert.equal((await env.rt.wait(id)).exitCode, 0);
    // The terminal echoes what was typed.
    assert.match(a.out(), /hello\r\n/);
    assert.match(a.out(), /got hello\r\n/);
    assert.match(a.out(), /24 91\r\n/);
    await env.rt.delete(id);
    await env.assertGone(id);
  });

  it('feeds a monitor-held stdin pipe from attach clients; close-stdin ends it; stdout and stderr stay apart', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['sh', '-c', 'cat; echo done >&2'] });
    await env.create(id, { bundle, stdin: 'attach' });
    assert.ok(existsSync(join(env.root, id, 'attach')));
    const conn = await env.rt.attach(id);
    const a = gather(conn);
    await env.rt.start(id);
    conn.write(Buffer.from('one\ntwo\n'));
    conn.closeStdin();
    await a.ended;
    assert.equal((await env.rt.wait(id)).exitCode, 0);
    assert.equal(a.out(), 'one\ntwo\n');
    assert.equal(a.err(), 'done\n');
    assert.equal(existsSync(join(env.root, id, 'attach')), false, 'the attach socket is removed at exit');
    await env.rt.delete(id);
    await env.assertGone(id);
  });

  it('StdinOnce: stdin closes when the first client that wrote to it goes away', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['sh', '-c', 'cat; echo eof'] });
    await env.create(id, { bundle, stdin: 'attach', stdinOnce: true });
    const watcher = gather(await env.rt.attach(id));
    const writer = await env.rt.attach(id);
    await env.rt.start(id);
    writer.write(Buffer.from('x\n'));
    await waitFor(() => watcher.out().includes('x\n'), 'the echo of x');
    writer.close();
    await watcher.ended;
    assert.equal(watcher.out(), 'x\neof\n');
    await env.rt.delete(id);
    await env.assertGone(id);
  });

  it('runs exec with its own terminal, resizable, and reports its exit code', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['sleep', '60'] });
    await env.create(id, { bundle });
    await env.rt.start(id);
    const h = await env.rt.exec(id, { args: ['sh', '-c', 'tty; stty size; read l; stty size; echo "in=$l"; exit 3'] }, { terminal: true, consoleSize: { height: 10, width: 20 } });
    let out = '';
    h.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    await waitFor(() => out.includes('10 20'), 'the first size');
    h.resize(50, 60);
    // The size travels on its own pipe, the input on stdin: wait until the kernel's pty has the new
    // size (read from the host through the shell's stdin) before the input lets the script go on.
    const shPid = await h.pid();
    await waitFor(() => ttySize(shPid) === '50 60', 'the pty to take the new size');
    h.stdin!.write('abc\r');
    const r = await h.wait();
    assert.equal(r.exitCode, 3, out);
    // The exit can be reported before the pty's last bytes are read here.
    await waitFor(() => out.includes('in=abc'), 'the last line of output');
    assert.match(out, /^\/dev\/pts\/\d+\r\n10 20\r\n/);
    assert.match(out, /50 60\r\nin=abc\r\n/);
    await env.rt.kill(id, 'SIGKILL');
    await env.rt.wait(id);
    await env.rt.delete(id);
    await env.assertGone(id);
  });

  it('reports a terminal the spec cannot have (no devpts) as a create error', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ args: ['true'] }, (s) => {
      s.process!.terminal = true;
      s.mounts = s.mounts!.filter((m) => m.destination !== '/dev/pts');
    });
    await assert.rejects(env.create(id, { bundle }), /terminal: open \/dev\/ptmx/);
    assert.equal(existsSync(join(env.root, id)), false);
  });
});
