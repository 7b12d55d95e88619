// hijack.ts depends on Node internals: the http server's socket listeners named socketOnData and
// socketOnEnd. A Node upgrade that renames them would make upgraded attach/exec sessions answer
// their input with 400 Bad Request; these tests fail loudly first.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { hijack, RAW_STREAM } from './hijack.js';

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

/** Sends an upgrade request, then `input` once the 101 arrives; resolves with all the bytes received until the server closes. */
function upgradeAndSend(port: number, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(port, '127.0.0.1');
    let got = '';
    let sent = false;
    sock.on('data', (b) => {
      got += b.toString('latin1');
      if (!sent && got.includes('\r\n\r\n')) {
        sent = true;
        sock.write(input);
      }
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(got));
    sock.write('POST /attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n');
  });
}

describe('agent/api/hijack: the Node internals it relies on', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it("finds the http server's socketOnData and socketOnEnd listeners by name", async () => {
    let names: { data: string[]; end: string[] } | undefined;
    const s = await listen((req, res) => {
      names = { data: req.socket.listeners('data').map((l) => l.name), end: req.socket.listeners('end').map((l) => l.name) };
      res.end();
    });
    server = s.server;
    await fetch(`http://127.0.0.1:${s.port}/`);
    assert.ok(names, 'the handler ran');
    assert.ok(names.data.some((n) => n.includes('socketOnData')), `socket 'data' listeners: ${JSON.stringify(names.data)}`);
    assert.ok(names.end.some((n) => n.includes('socketOnEnd')), `socket 'end' listeners: ${JSON.stringify(names.end)}`);
  });

  it('hands the bytes after a 101 to the session, not to the HTTP parser', async () => {
    const s = await listen((req, res) => {
      const c = hijack(req, res, RAW_STREAM);
      let input = '';
      c.onInput((b) => {
        input += b.toString();
        if (input.includes('\n')) {
          c.write(Buffer.from(`echo:${input}`));
          c.end();
        }
      });
    });
    server = s.server;
    const got = await upgradeAndSend(s.port, 'GET / HTTP/1.1\r\n\r\nhello\n');
    assert.match(got, /^HTTP\/1\.1 101 UPGRADED\r\n/);
    assert.doesNotMatch(got, /400 Bad Request/);
    assert.ok(got.endsWith('echo:GET / HTTP/1.1\r\n\r\nhello\n'), JSON.stringify(got));
  });
});
