// `tsswarm cp` end to end: a real daemon, busybox containers running and stopped, files both ways,
// tar streaming, and the container's root as the only root paths resolve in.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TarWriter } from '../lib/tar/index.js';
import { PassThrough } from 'node:stream';
import { readTar } from '../lib/tar/index.js';
import { TSSWARM, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { loadBusyboxImage } from './helpers/busybox.js';

type Result = { stdout: string; stderr: string; code: number };

/** Runs the CLI with binary stdin/stdout (tar streams). */
function cliBinary(d: TestDaemon, args: string[], input?: Buffer): Promise<{ stdout: Buffer; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSSWARM, ...args], { env: d.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ stdout: Buffer.concat(out), stderr: err, code: code ?? 1 }));
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

async function tarOf(entries: Array<{ name: string; type: 'file' | 'dir'; data?: string; mode?: number }>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = new TarWriter(out);
  for (const e of entries) await w.add({ name: e.name, type: e.type, mode: e.mode ?? (e.type === 'dir' ? 0o755 : 0o644), mtime: 1_700_000_000 }, e.data !== undefined ? Buffer.from(e.data) : undefined);
  await w.finish();
  return Buffer.concat(chunks);
}

/** Every mount point below `dir` still mounted (the stopped-container overlay must be gone). */
function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir));
}

describe('e2e: tsswarm cp', function () {
  let work: string;
  let d: TestDaemon;
  let cli: (args: string[]) => Promise<Result>;

  before(async function () {
    work = mkdtempSync('/tmp/tsswarm-cp-e2e-');
    d = await startDaemon();
    cli = (args) => d.cli(args);
    await loadBusyboxImage(d, work);
    const run = await cli(['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo inside > /data/sub/f && ln -s /etc/passwd /data/pw && ln -s ../../../../../../etc /data/up && exec sleep 1000']);
    assert.equal(run.code, 0, run.stderr);
    // The set-up above has run once the symlink exists.
    for (let i = 0; i < 100; i++) {
      if ((await cli(['exec', 'live', 'test', '-L', '/data/up'])).code === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async function () {
    await d?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('copies a file and a directory into a running container and back out, keeping contents and modes', async function () {
    const src = join(work, 'in');
    mkdirSync(join(src, 'tree', 'deep'), { recursive: true });
    writeFileSync(join(src, 'hello.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(join(src, 'hello.sh'), 0o750);
    writeFileSync(join(src, 'tree', 'deep', 'x.txt'), 'deep content\n');
    chmodSync(join(src, 'tree', 'deep'), 0o711);
    symlinkSync('deep/x.txt', join(src, 'tree', 'link'));

    // file → existing directory; file → new name; dir → new dir; dir/. → existing dir
    let r = await cli(['cp', join(src, 'hello.sh'), 'live:/tmp']);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['cp', join(src, 'hello.sh'), 'live:/tmp/renamed.sh']);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['cp', join(src, 'tree'), 'live:/opt']);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['cp', `${join(src, 'tree')}/.`, 'live:/data']);
    assert.equal(r.code, 0, r.stderr);

    const check = await cli(['exec', 'live', 'sh', '-c', 'cat /tmp/hello.sh /tmp/renamed.sh /opt/deep/x.txt /data/deep/x.txt; stat -c "%a %u" /tmp/hello.sh /opt/deep; readlink /opt/link; ls /data']);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout, '#!/bin/sh\necho hi\n#!/bin/sh\necho hi\ndeep content\ndeep content\n750 0\n711 0\ndeep/x.txt\ndeep\nlink\npw\nsub\nup\n');
    assert.equal((await cli(['exec', 'live', '/tmp/hello.sh'])).stdout, 'hi\n');

    // Back out: dir → new local dir, file → existing local dir, dir/. → existing dir.
    const out = join(work, 'out');
    mkdirSync(out);
    r = await cli(['cp', 'live:/opt', join(out, 'opt-copy')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(out, 'opt-copy', 'deep', 'x.txt'), 'utf8'), 'deep content\n');
    assert.equal(statSync(join(out, 'opt-copy', 'deep')).mode & 0o777, 0o711);
    assert.equal(readlinkSync(join(out, 'opt-copy', 'link')), 'deep/x.txt');
    r = await cli(['cp', 'live:/tmp/hello.sh', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(join(out, 'hello.sh')).mode & 0o777, 0o750);
    mkdirSync(join(out, 'contents'));
    r = await cli(['cp', 'live:/data/sub/.', join(out, 'contents')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(join(out, 'contents')), ['f']);
    assert.equal(readFileSync(join(out, 'contents', 'f'), 'utf8'), 'inside\n');
  });

  it('resolves symlinks inside the container root: /etc/passwd is the container\'s, ../ cannot escape', async function () {
    const out = join(work, 'links');
    mkdirSync(out);
    // Without -L the link itself is copied; with -L (and through a directory symlink) its target.
    let r = await cli(['cp', 'live:/data/pw', join(out, 'pw-link')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readlinkSync(join(out, 'pw-link')), '/etc/passwd');
    r = await cli(['cp', '-L', 'live:/data/pw', join(out, 'pw')]);
    assert.equal(r.code, 0, r.stderr);
    const containerPasswd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
    assert.equal(readFileSync(join(out, 'pw'), 'utf8'), containerPasswd);
    assert.notEqual(readFileSync('/etc/passwd', 'utf8'), containerPasswd);
    // "up" climbs far above the root: inside the container that is still /etc.
    r = await cli(['cp', 'live:/data/up/passwd', join(out, 'up-passwd')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(out, 'up-passwd'), 'utf8'), containerPasswd);
    r = await cli(['cp', 'live:/../../../../etc/passwd', join(out, 'dots')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(out, 'dots'), 'utf8'), containerPasswd);

    // Writing through the links lands in the container too, never on the host.
    const marker = join(work, 'marker.txt');
    writeFileSync(marker, 'marker\n');
    r = await cli(['cp', marker, 'live:/data/up/']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await cli(['exec', 'live', 'cat', '/etc/marker.txt'])).stdout, 'marker\n');
    assert.equal(existsSync('/etc/marker.txt'), false);

    // A tar whose entries climb out is refused.
    const evil = await tarOf([{ name: '../../../../tmp/evil-from-cp', type: 'file', data: 'x' }]);
    const put = await cliBinary(d, ['cp', '-', 'live:/tmp'], evil);
    assert.notEqual(put.code, 0);
    assert.match(put.stderr, /\.\./);
    assert.equal(existsSync('/tmp/evil-from-cp'), false);
  });

  it('reports missing paths and bad destinations as Docker does', async function () {
    let r = await cli(['cp', 'live:/nope', join(work, 'nope')]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error response from daemon: Could not find the file /nope in container live\n');
    r = await cli(['cp', join(work, 'busybox.tar'), 'live:/no/such/dir/x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error response from daemon: .*\/no/);
    r = await cli(['cp', 'live:/etc', join(work, 'busybox.tar')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot copy directory/);
    r = await cli(['cp', 'nosuch:/etc', work]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such container: nosuch/);
    r = await cli(['cp', 'live:/etc', 'live:/tmp']);
    assert.match(r.stderr, /copying between containers is not supported/);
    r = await cli(['cp', '/a', '/b']);
    assert.match(r.stderr, /must specify at least one container source/);
  });

  it('streams tars with "-" both ways; .wh. names are not turned into whiteouts', async function () {
    const tar = await tarOf([
      { name: 'streamed/', type: 'dir' },
      { name: 'streamed/a.txt', type: 'file', data: 'A\n', mode: 0o600 },
    ]);
    let put = await cliBinary(d, ['cp', '-', 'live:/tmp'], tar);
    assert.equal(put.code, 0, put.stderr);
    assert.equal((await cli(['exec', 'live', 'stat', '-c', '%a:%n', '/tmp/streamed/a.txt'])).stdout, '600:/tmp/streamed/a.txt\n');

    const get = await cliBinary(d, ['cp', 'live:/tmp/streamed', '-']);
    assert.equal(get.code, 0, get.stderr);
    const names: string[] = [];
    let content = '';
    for await (const e of readTar((async function* () {
      yield get.stdout;
    })())) {
      names.push(e.h.name);
      for await (const c of e.data()) content += c.toString();
    }
    assert.deepEqual(names, ['streamed/', 'streamed/a.txt']);
    assert.equal(content, 'A\n');

    // A file called .wh.x is copied as a file; it must not delete x (the layer unpacker's meaning).
    put = await cliBinary(d, ['cp', '-', 'live:/tmp'], await tarOf([{ name: '.wh.streamed', type: 'file', data: 'wh\n' }]));
    assert.equal(put.code, 0, put.stderr);
    assert.equal((await cli(['exec', 'live', 'cat', '/tmp/streamed/a.txt', '/tmp/.wh.streamed'])).stdout, 'A\nwh\n');
  });

  it('copies from and into a stopped container, and unmounts its file system after', async function () {
    const r = await cli(['run', '--name', 'stopped', 'busybox', 'sh', '-c', 'echo was-here > /root/note']);
    assert.equal(r.code, 0, r.stderr);
    const out = join(work, 'stopped-out');
    mkdirSync(out);
    let c = await cli(['cp', 'stopped:/root/note', out]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(readFileSync(join(out, 'note'), 'utf8'), 'was-here\n');
    assert.equal(statSync(join(out, 'note')).isFile(), true);

    const f = join(work, 'to-stopped.txt');
    writeFileSync(f, 'while stopped\n');
    c = await cli(['cp', f, 'stopped:/root/']);
    assert.equal(c.code, 0, c.stderr);
    c = await cli(['cp', 'stopped:/nope', out]);
    assert.match(c.stderr, /Could not find the file \/nope in container stopped/);
    assert.deepEqual(mountsBelow(d.dir), [], 'no cp mount left behind');
    assert.equal(
      readdirSync(join(d.dir, 'data', 'containers'), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .some((e) => readdirSync(join(d.dir, 'data', 'containers', e.name)).some((n) => n.startsWith('cp-'))),
      false,
      'no cp mount point left behind',
    );
    // The file is there when the container runs again.
    const start = await cli(['start', '-a', 'stopped']);
    assert.equal(start.code, 0, start.stderr);
    const run2 = await cli(['run', '--rm', 'busybox', 'true']);
    assert.equal(run2.code, 0, run2.stderr);
    c = await cli(['cp', 'stopped:/root/to-stopped.txt', join(out, 'back.txt')]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(readFileSync(join(out, 'back.txt'), 'utf8'), 'while stopped\n');
    assert.equal(lstatSync(join(out, 'back.txt')).isFile(), true);
  });

  it('image history shows the layers (IMAGE, CREATED, CREATED BY, SIZE, COMMENT)', async function () {
    const r = await cli(['history', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n/);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.length >= 2, r.stdout);
    assert.match(lines[1]!, /^[0-9a-f]{12}\s/);
    const q = await cli(['image', 'history', '-q', '--no-trunc', 'busybox']);
    assert.match(q.stdout.split('\n')[0]!, /^sha256:[0-9a-f]{64}$/);
    const f = await cli(['history', '--format', '{{.Size}}', 'busybox']);
    assert.match(f.stdout, /^\d+(\.\d+)?[kMG]?B\n/);
    const missing = await cli(['history', 'nosuchimage']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error response from daemon: .*nosuchimage/);
  });
});
