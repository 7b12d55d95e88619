import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { RegistryClient, tcpProbe } from './client.js';

describe('image/registry/client: unreachable registries', function () {
  it('reports the real cause on a port fetch refuses to use ("bad port")', async function () {
    // Port 1 is on fetch's blocked list; nothing listens there, so Docker would say "connection refused".
    const c = new RegistryClient('127.0.0.1:1');
    await assert.rejects(c.getManifest('x', 'latest'), (e: Error) => {
      assert.match(e.message, /^cannot reach registry 127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1$/);
      return true;
    });
  });

  it('says the port is blocked when something does listen there', async function () {
    const srv = createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = (srv.address() as { port: number }).port;
      assert.match(await tcpProbe(`127.0.0.1:${port}`), new RegExp(`^port ${port} is on the fetch standard's list of blocked ports`));
      assert.match(await tcpProbe('[::1]:1'), /ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH/);
    } finally {
      srv.close();
    }
  });
});
