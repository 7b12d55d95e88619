import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Client } from '../client.js';
import { containerEvents } from './event-feed.js';

// A real HTTP server on a private unix socket plays the daemon's GET /events.
describe('cli/compose event feed', () => {
  let dir: string;
  let server: Server;
  let stream: ServerResponse | undefined;
  let query = '';
  let client: Client;

  beforeEach(async () => {
    dir = mkdtempSync('/tmp/tsswarm-feed-');
    const sock = join(dir, 'd.sock');
    stream = undefined;
    server = createServer((req, res) => {
      query = req.url ?? '';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      stream = res;
    });
    await new Promise<void>((r) => server.listen(sock, r));
    client = new Client(`unix://${sock}`);
  });
  afterEach(async () => {
    stream?.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks for the containers and actions given, and wakes once per batch of events', async () => {
    const feed = await containerEvents(client, ['abc', 'def'], ['health_status', 'die']);
    const filters = JSON.parse(new URL(query, 'http://x').searchParams.get('filters')!) as Record<string, string[]>;
    assert.deepEqual(filters, { type: ['container'], container: ['abc', 'def'], event: ['health_status', 'die'] });
    // An event that arrives before next() is not lost.
    stream!.write('{"Action":"health_status: healthy"}\n');
    await feed.next();
    let woke = false;
    const pending = feed.next().then(() => (woke = true));
    // Half a line is not an event yet.
    stream!.write('{"Action":"di');
    await new Promise((r) => setImmediate(r));
    assert.equal(woke, false);
    stream!.write('e"}\n');
    await pending;
    assert.equal(woke, true);
    feed.close();
  });

  it('rejects when the daemon ends the stream', async () => {
    const feed = await containerEvents(client, ['abc'], ['die']);
    const next = feed.next();
    stream!.end();
    await assert.rejects(next, /the daemon closed the event stream/);
    feed.close();
  });
});
