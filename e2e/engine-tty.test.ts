// Terminals, attach and stdin through the daemon and the CLI: `run -i/-it`, `exec -i/-it`, `attach`,
// `start -a`, resize, detach keys. Interactive commands run under a real pty driven by Python's pty
// module (a script of expect/send/resize steps), so raw mode and SIGWINCH are the real thing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TSSWARM, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { loadBusyboxImage } from './helpers/busybox.js';

type Step = { expect: string } | { send: string } | { resize: [number, number] } | { sleep: number };

// Runs argv on a new pty of rows x cols; steps: wait for text in the output, type, resize (the
// kernel then sends SIGWINCH). Prints {"output", "code"} as JSON.
const PTY_DRIVER = String.raw`
import json, os, pty, select, signal, struct, sys, time, fcntl, termios
spec = json.loads(sys.stdin.read())
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
def setsize(r, c):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
setsize(*spec["size"])
out = b""
deadline = time.time() + spec["timeout"]
def pump(until=None):
    global out
    while time.time() < deadline:
        if until is not None and until.encode() in out:
            return True
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                b = os.read(fd, 65536)
            except OSError:
                return False
            if not b:
                return False
            out += b
        elif until is None:
            return True
    return False
for st in spec["steps"]:
    if "expect" in st:
        if not pump(st["expect"]):
            break
        out_mark = len(out)
    elif "send" in st:
        os.write(fd, st["send"].encode())
    elif "resize" in st:
        setsize(*st["resize"])
    elif "sleep" in st:
        end = time.time() + st["sleep"]
        while time.time() < end:
            pump(None)
while True:
    try:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            b = os.read(fd, 65536)
            if not b:
                break
            out += b
    except OSError:
        break
    if time.time() > deadline:
        os.kill(pid, signal.SIGKILL)
        break
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
print(json.dumps({"output": out.decode("utf-8", "replace"), "code": code}))
`;

interface PtyResult {
  output: string;
  code: number;
}

function underPty(d: TestDaemon, args: string[], steps: Step[], size: [number, number] = [24, 80], timeout = 30): Promise<PtyResult> {
  return new Promise((resolve, reject) => {
    const p = execFile('python3', ['-c', PTY_DRIVER], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && !stdout) return reject(new Error(`pty driver failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout) as PtyResult);
    });
    p.stdin!.end(JSON.stringify({ argv: [process.execPath, TSSWARM, ...args], env: { ...d.env, TERM: 'xterm' }, size, steps, timeout }));
  });
}

describe('e2e: terminals, attach and stdin', function () {
  let work: string;
  let d: TestDaemon;
  const cli = (args: string[], input?: string) => d.cli(args, input !== undefined ? { input } : {});

  before(async function () {
    work = mkdtempSync('/tmp/tsswarm-tty-e2e-');
    d = await startDaemon();
    await loadBusyboxImage(d, work);
  });

  after(async function () {
    await d?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('run -i pipes stdin to the container and ends at its EOF', async () => {
    const r = await cli(['run', '-i', '--rm', 'busybox', 'cat'], 'hi\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    const r2 = await cli(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'wc -l; echo err >&2; exit 5'], 'a\nb\nc\n');
    assert.equal(r2.code, 5, r2.stderr);
    assert.equal(r2.stdout.trim(), '3');
    assert.equal(r2.stderr, 'err\n');
  });

  it('run -it gives the container /dev/pts/0 at the size of our terminal, and its exit code', async () => {
    const r = await underPty(d, ['run', '-it', '--rm', 'busybox', 'sh', '-c', 'tty; stty size; exit 3'], [], [30, 100]);
    assert.equal(r.code, 3, r.output);
    assert.match(r.output, /\/dev\/pts\/0\r+\n30 100\r+\n/);
  });

  it('run -it follows a resize of our terminal; typing reaches the shell', async () => {
    const r = await underPty(d, ['run', '-it', '--rm', 'busybox', 'sh'], [
      { expect: '# ' },
      { send: 'stty size\r' },
      { expect: '24 80' },
      { resize: [40, 120] },
      { sleep: 0.5 },
      { send: 'stty size; exit 7\r' },
      { expect: '40 120' },
    ]);
    assert.equal(r.code, 7, r.output);
    assert.match(r.output, /40 120\r+\n/);
  });

  it('detaches from run -it with Ctrl-P Ctrl-Q, attaches again, and logs the tty output', async () => {
    const name = 'tty-detach';
    const r = await underPty(d, ['run', '-it', '--name', name, 'busybox', 'sh'], [{ expect: '# ' }, { send: 'echo first-$((1+1))\r' }, { expect: 'first-2' }, { send: '\x10\x11' }]);
    assert.equal(r.code, 0, r.output);
    const st = await cli(['inspect', '-f', '{{.State.Status}}', name]);
    assert.equal(st.stdout.trim(), 'running', 'the container runs on after the detach');
    const a = await underPty(d, ['container', 'attach', name], [{ send: 'echo again-$((2+2))\r' }, { expect: 'again-4' }, { send: 'exit 4\r' }]);
    assert.equal(a.code, 4, a.output);
    const logs = await cli(['logs', name]);
    assert.match(logs.stdout, /first-2/);
    assert.match(logs.stdout, /again-4/);
    assert.equal((await cli(['rm', name])).code, 0);
  });

  it('exec -it runs a process on its own pty; exec -i pipes stdin; exit codes come back', async () => {
    const name = 'tty-exec';
    assert.equal((await cli(['run', '-d', '--name', name, 'busybox', 'sleep', '300'])).code, 0);
    const r = await underPty(d, ['exec', '-it', name, 'sh', '-c', 'tty; stty size; exit 3'], [], [33, 90]);
    assert.equal(r.code, 3, r.output);
    assert.match(r.output, /\/dev\/pts\/\d+\r+\n33 90\r+\n/);
    const i = await cli(['exec', '-i', name, 'sh', '-c', 'cat; exit 2'], 'piped\n');
    assert.equal(i.code, 2, i.stderr);
    assert.equal(i.stdout, 'piped\n');
    assert.equal((await cli(['rm', '-f', name])).code, 0);
  });

  it('start -a -i attaches stdin and output of a created container before starting it', async () => {
    const name = 'tty-start';
    assert.equal((await cli(['create', '-i', '--name', name, 'busybox', 'sh', '-c', 'read x; echo "got $x"; exit 6'])).code, 0);
    const r = await cli(['start', '-a', '-i', name], 'abc\n');
    assert.equal(r.code, 6, r.stderr);
    assert.equal(r.stdout, 'got abc\n');
    assert.equal((await cli(['rm', name])).code, 0);
  });

  it('leaves nothing behind', async () => {
    assert.equal((await cli(['ps', '-a', '-q'])).stdout, '');
    const runtimeRoot = join(d.dir, 'exec', 'runtime');
    let left: string[] = [];
    try {
      left = readdirSync(runtimeRoot);
    } catch {
      // Never made.
    }
    assert.deepEqual(left, []);
  });
});
