import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import forge from 'node-forge';
import type { Message } from '../types.js';
import { MemoryNetwork } from './memory.js';
import { TcpTransport, type TransportTlsOptions } from './tcp.js';

function collect(t: { onMessage(h: (m: Message) => void): void }): { got: Message[]; waitFor(n: number): Promise<void> } {
  const got: Message[] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  t.onMessage((m) => {
    got.push(m);
    if (waiter && got.length >= waiter.n) waiter.resolve();
  });
  return {
    got,
    waitFor: (n) =>
      got.length >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { n, resolve })),
  };
}

const hb = (from: string, to: string, i: number): Message => ({ type: 'heartbeat', from, to, term: 1, commit: i });

/** A throwaway CA and one leaf certificate (SAN 127.0.0.1) used by both sides. */
function makeTls(): TransportTlsOptions {
  const mk = () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      pem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      key: forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
      pub: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    };
  };
  const ca = mk();
  // Valid from a minute ago for an hour; every certificate is signed by the CA's key.
  const issue = (pub: forge.pki.PublicKey, serial: string, subject: forge.pki.CertificateField[], issuer: forge.pki.CertificateField[], extensions: object[]): forge.pki.Certificate => {
    const c = forge.pki.createCertificate();
    c.publicKey = pub;
    c.serialNumber = serial;
    c.validity.notBefore = new Date(Date.now() - 60_000);
    c.validity.notAfter = new Date(Date.now() + 3600_000);
    c.setSubject(subject);
    c.setIssuer(issuer);
    c.setExtensions(extensions);
    c.sign(ca.key, forge.md.sha256.create());
    return c;
  };
  const caCert = issue(ca.pub, '01', [{ name: 'commonName', value: 'test-ca' }], [{ name: 'commonName', value: 'test-ca' }], [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }]);
  const leaf = mk();
  const cert = issue(leaf.pub, '02', [{ name: 'commonName', value: 'raft-node' }], caCert.subject.attributes, [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
  ]);
  return { key: leaf.pem, cert: forge.pki.certificateToPem(cert), ca: forge.pki.certificateToPem(caCert) };
}

describe('raft/transport memory', () => {
  it('delivers between known peers, drops to unknown and isolated ones', async () => {
    const net = new MemoryNetwork();
    const a = net.transport('a');
    const b = net.transport('b');
    a.addPeer('b', '');
    b.addPeer('a', '');
    const rb = collect(b);
    const ra = collect(a);
    a.send([hb('a', 'b', 1), hb('a', 'c', 2)]);
    await rb.waitFor(1);
    assert.deepEqual(rb.got.map((m) => m.commit), [1]);
    net.isolate('b');
    a.send([hb('a', 'b', 3)]);
    b.send([hb('b', 'a', 4)]);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(rb.got.length, 1);
    assert.equal(ra.got.length, 0);
    net.heal();
    b.send([hb('b', 'a', 5)]);
    await ra.waitFor(1);
    assert.equal(ra.got[0]!.commit, 5);
  });
});

for (const secure of [false, true]) {
  describe(`raft/transport tcp${secure ? ' + mutual TLS' : ''}`, () => {
    const tlsOpts = secure ? makeTls() : undefined;
    const open: TcpTransport[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((t) => t.close()));
    });
    const mk = async (id: string, port = 0) => {
      const t = await TcpTransport.listen({ id, port, tls: tlsOpts });
      open.push(t);
      return t;
    };

    it('delivers many pipelined messages in order, both directions', async () => {
      const a = await mk('a');
      const b = await mk('b');
      a.addPeer('b', b.address);
      b.addPeer('a', a.address);
      const rb = collect(b);
      const ra = collect(a);
      const N = 5000;
      for (let i = 0; i < N; i += 100) {
        a.send(Array.from({ length: 100 }, (_, k) => hb('a', 'b', i + k)));
        if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
      }
      b.send([
        {
          type: 'app',
          from: 'b',
          to: 'a',
          term: 2,
          index: 0,
          logTerm: 0,
          commit: 0,
          entries: [{ term: 2, index: 1, type: 'normal', data: Buffer.alloc(300_000, 1) }],
        },
      ]);
      await rb.waitFor(N);
      await ra.waitFor(1);
      assert.deepEqual(
        rb.got.map((m) => m.commit),
        Array.from({ length: N }, (_, i) => i),
      );
      assert.equal(ra.got[0]!.entries![0]!.data.length, 300_000);
    });

    it('reconnects after the peer restarts on the same port and reports it unreachable meanwhile', async () => {
      let b = await mk('b');
      const port = Number(b.address.split(':')[1]);
      const unreachable: string[] = [];
      const a = await TcpTransport.listen({ id: 'a', tls: tlsOpts, backoffMinMs: 10, backoffMaxMs: 50, onUnreachable: (id) => unreachable.push(id) });
      open.push(a);
      a.addPeer('b', b.address);
      let rb = collect(b);
      a.send([hb('a', 'b', 1)]);
      await rb.waitFor(1);
      await b.close();
      open.splice(open.indexOf(b), 1);
      while (unreachable.length === 0) await new Promise((r) => setTimeout(r, 5));
      b = await mk('b', port);
      rb = collect(b);
      // Keep sending until the link is back: raft's own retries play this role in production.
      while (rb.got.length === 0) {
        a.send([hb('a', 'b', 2)]);
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(rb.got[0]!.commit, 2);
      assert.ok(unreachable.includes('b'));
    });
  });
}

describe('raft/transport tcp TLS rejection', () => {
  it('refuses a peer without a certificate from the CA', async () => {
    const good = makeTls();
    const other = makeTls();
    const b = await TcpTransport.listen({ id: 'b', tls: good });
    const a = await TcpTransport.listen({ id: 'a', tls: { ...other, ca: good.ca } });
    try {
      const got: Message[] = [];
      b.onMessage((m) => got.push(m));
      a.addPeer('b', b.address);
      for (let i = 0; i < 20; i++) {
        a.send([hb('a', 'b', i)]);
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(got.length, 0);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
