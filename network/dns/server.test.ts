// Talks to the server over loopback only.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { RCODE_NOERROR, RCODE_SERVFAIL, TYPE_A, aRecord, decodeMessage, encodeQuery, encodeResponse, readA } from './codec.js';
import { aAnswers, queryUdp } from './client.js';
import { DnsServer } from './server.js';

/** A stand-in upstream resolver: answers every A query with 192.0.2.1. */
async function fakeUpstream(): Promise<{ port: number; close: () => void; seen: string[] }> {
  const seen: string[] = [];
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const m = decodeMessage(msg);
    seen.push(m.questions[0]!.name);
    sock.send(encodeResponse(m, RCODE_NOERROR, [aRecord(m.questions[0]!.name, '192.0.2.1', 30)]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, close: () => sock.close(), seen };
}

describe('network/dns/server (loopback)', () => {
  let server: DnsServer;
  let up: Awaited<ReturnType<typeof fakeUpstream>>;
  let port: number;

  beforeEach(async () => {
    up = await fakeUpstream();
    server = new DnsServer({ upstreams: [`127.0.0.1:${up.port}`], forwardTimeoutMs: 5000 });
    server.records.add('n1', { id: 'e1', ip: '10.0.0.2', names: ['web', 'www'] });
    port = (await server.listen('n1', '127.0.0.1', 0)).port;
  });

  afterEach(async () => {
    await server.close();
    up.close();
  });

  it('answers a local name over UDP', async () => {
    const m = await queryUdp('127.0.0.1', port, 'www');
    assert.equal(m.rcode, RCODE_NOERROR);
    assert.deepEqual(aAnswers(m), ['10.0.0.2']);
    assert.deepEqual(up.seen, []);
  });

  it('forwards other names to the upstream', async () => {
    const m = await queryUdp('127.0.0.1', port, 'example.org');
    assert.deepEqual(aAnswers(m), ['192.0.2.1']);
    assert.deepEqual(up.seen, ['example.org']);
  });

  it('answers over TCP', async () => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const q = encodeQuery(42, 'web', TYPE_A);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length);
    sock.write(Buffer.concat([len, q]));
    const resp = await new Promise<Buffer>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      sock.on('error', reject);
      sock.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) resolve(buf.subarray(2));
      });
    });
    sock.destroy();
    const m = decodeMessage(resp);
    assert.equal(m.id, 42);
    assert.deepEqual(m.answers.map((a) => readA(a.data)), ['10.0.0.2']);
  });

  it('answers SERVFAIL when no upstream is usable', async () => {
    const lonely = new DnsServer({ upstreams: [] });
    const reply = await lonely.handle('n1', encodeQuery(5, 'example.org', TYPE_A), 'udp');
    assert.equal(decodeMessage(reply!).rcode, RCODE_SERVFAIL);
  });

  it('refuses a second listener for the same network', async () => {
    await assert.rejects(server.listen('n1', '127.0.0.1', 0), /already listening/);
  });
});
