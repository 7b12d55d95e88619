// plainRequest against a real node:http server on a private unix socket: what the CLI's buffered calls
// (cli/client.ts) now send and read instead of going through node:http themselves.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectError, plainRequest } from './run-client.js';

describe('cli/run-client plainRequest', () => {
  let dir: string;
  let server: Server;
  let host: string;
  const seen: { method?: string; url?: string; headers?: Record<string, unknown>; body?: string }[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsswarm-plainreq-'));
    const sock = join(dir, 'd.sock');
    host = `unix://${sock}`;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (req.url === '/chunked') {
          // No Content-Length: Node frames the body in chunks.
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.write('{"a":');
          res.end('1}');
          return;
        }
        const body = JSON.stringify({ message: 'no such container: x' });
        res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the method, path, JSON body and extra headers; reads a sized answer', async () => {
    const r = await plainRequest(host, 'POST', '/v1.41/images/create?fromImage=busybox', { x: 1 }, { 'X-Registry-Auth': 'e30=' });
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body.toString('utf8')), { message: 'no such container: x' });
    const req = seen.at(-1)!;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/v1.41/images/create?fromImage=busybox');
    assert.equal(req.headers!['x-registry-auth'], 'e30=');
    assert.equal(req.headers!['content-type'], 'application/json');
    assert.equal(req.body, '{"x":1}');
  });

  it('reads a chunked answer', async () => {
    const r = await plainRequest(host, 'GET', '/chunked');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body.toString('utf8')), { a: 1 });
  });

  it('refuses a header that would smuggle in another line, and sends nothing', async () => {
    const before = seen.length;
    await assert.rejects(plainRequest(host, 'GET', '/x', undefined, { 'X-A': 'v\r\nX-B: w' }), /X-A.*line break/);
    assert.equal(seen.length, before);
  });

  it('tells a missing socket apart as ConnectError (the client may start a daemon)', async () => {
    await assert.rejects(plainRequest(`unix://${join(dir, 'none.sock')}`, 'GET', '/_ping'), (e: unknown) => e instanceof ConnectError && e.code === 'ENOENT');
  });
});
