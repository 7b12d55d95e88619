// Issue 12 §7 API faults: a malformed percent-encoding is the client's 400, an oversized JSON body is
// refused with 413 without being buffered, and PUT /archive refused part-way extracts nothing.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { encodeHeader, padding, END_OF_ARCHIVE, type TarHeader } from '../lib/tar/tar.js';
import { useBusyboxDaemon } from './helpers/busybox.js';

interface Answer {
  status: number;
  body: string;
}

/** One request on the daemon's socket; `send` writes the body (and may stop early). */
function call(sock: string, method: string, path: string, headers: Record<string, string | number>, send: (req: ReturnType<typeof request>) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (t: string) => (body += t));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The daemon may close while we still send (that is the point of a 413): the answer came first.
    req.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    send(req);
  });
}

function tarOf(entries: Array<{ h: TarHeader; data?: string }>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(encodeHeader({ ...e.h, size: e.data ? Buffer.byteLength(e.data) : 0 }));
    if (e.data) parts.push(Buffer.from(e.data), padding(Buffer.byteLength(e.data)));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

describe('e2e: API faults (percent-encoding, body limit, archive all-or-nothing)', function () {
  const b = useBusyboxDaemon('/tmp/tsswarm-faults-api-');
  const sock = (): string => b.d.host.replace(/^unix:\/\//, '');

  it('a malformed percent-encoding in the path is a 400 naming the segment', async function () {
    const r = await call(sock(), 'GET', '/v1.41/containers/%E0%A4%A/json', {}, (req) => req.end());
    assert.equal(r.status, 400, r.body);
    assert.match(JSON.parse(r.body).message, /invalid percent-encoding in path segment "%E0%A4%A"/);
  });

  it('a JSON body announced larger than the limit is refused with 413 before it is read', async function () {
    const r = await call(sock(), 'POST', '/v1.41/containers/create', { 'Content-Type': 'application/json', 'Content-Length': 700 * 1024 * 1024 }, (req) => {
      req.write('{"Image": "busybox", "Cmd": ["');
      // Nothing more: the daemon answers without waiting for the other 700 MB.
    });
    assert.equal(r.status, 413);
    assert.match(JSON.parse(r.body).message, /request body too large/);
  });

  it('a chunked JSON body that grows past the limit is refused with 413, and the daemon still answers', async function () {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const r = await call(sock(), 'POST', '/v1.41/containers/create', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, (req) => {
      req.write('{"Image": "busybox", "Hostname": "');
      let sent = 0;
      const more = (): void => {
        while (sent < 40) {
          sent++;
          if (!req.write(chunk)) {
            req.once('drain', more);
            return;
          }
        }
        req.end('"}');
      };
      more();
    });
    assert.equal(r.status, 413);
    assert.equal((await b.cli(['version'])).code, 0);
  });

  it('PUT /archive with a bad entry late in the tar extracts none of the earlier ones', async function () {
    assert.equal((await b.cli(['create', '--name', 'arch', 'busybox', 'sleep', '3600'])).code, 0);
    const tar = tarOf([
      { h: { name: 'early.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, data: 'first\n' },
      { h: { name: 'dir/', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0 } },
      { h: { name: '../escape.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, data: 'nope\n' },
    ]);
    const r = await call(sock(), 'PUT', '/v1.41/containers/arch/archive?path=/tmp', { 'Content-Type': 'application/x-tar', 'Content-Length': tar.length }, (req) => req.end(tar));
    assert.equal(r.status, 400, r.body);
    assert.match(r.body, /escape\.txt/);
    assert.equal((await b.cli(['start', 'arch'])).code, 0);
    const seen = await b.cli(['exec', 'arch', 'ls', '-a', '/tmp']);
    assert.equal(seen.code, 0, seen.stderr);
    assert.ok(!seen.stdout.includes('early.txt'), `early.txt was extracted: ${seen.stdout}`);
    assert.ok(!seen.stdout.includes('dir'), `dir was extracted: ${seen.stdout}`);
    // The same archive without the bad entry lands whole.
    const good = tarOf([{ h: { name: 'early.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, data: 'first\n' }]);
    const ok = await call(sock(), 'PUT', '/v1.41/containers/arch/archive?path=/tmp', { 'Content-Type': 'application/x-tar', 'Content-Length': good.length }, (req) => req.end(good));
    assert.equal(ok.status, 200, ok.body);
    assert.equal((await b.cli(['exec', 'arch', 'cat', '/tmp/early.txt'])).stdout, 'first\n');
    assert.equal((await b.cli(['rm', '-f', 'arch'])).code, 0);
  });
});
