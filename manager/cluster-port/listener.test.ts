import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { request } from 'node:https';
import tls from 'node:tls';
import forge from 'node-forge';
import { WebSocket, WebSocketServer } from 'ws';
import { TcpTransport } from '../raft/transport/tcp.js';
import type { Message } from '../raft/types.js';
import { ALPN_RAFT } from '../protocol.js';
import { ClusterPort, peerOf } from './listener.js';

// A throwaway CA and two node certificates (manager, worker) for exercising the listener's TLS
// routing; the swarm's own CA lives in manager/ca.
function keyPair(): forge.pki.rsa.KeyPair {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}
function makeCert(subject: forge.pki.CertificateField[], keys: forge.pki.rsa.KeyPair, issuer: { cert?: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey }, ca: boolean, serial: string): forge.pki.Certificate {
  const c = forge.pki.createCertificate();
  c.publicKey = keys.publicKey;
  c.serialNumber = serial;
  c.validity.notBefore = new Date(Date.now() - 60_000);
  c.validity.notAfter = new Date(Date.now() + 3600_000);
  c.setSubject(subject);
  c.setIssuer(issuer.cert ? issuer.cert.subject.attributes : subject);
  c.setExtensions(ca ? [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }] : [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }, { name: 'extKeyUsage', serverAuth: true, clientAuth: true }]);
  c.sign(issuer.key, forge.md.sha256.create());
  return c;
}

describe('cluster port: one TLS listener, raft and HTTPS by ALPN', function () {
  this.timeout(30_000);
  const caKeys = keyPair();
  const caCert = makeCert([{ name: 'commonName', value: 'swarm-ca' }], caKeys, { key: caKeys.privateKey }, true, '01');
  const ca = forge.pki.certificateToPem(caCert);
  const node = (id: string, role: string, serial: string) => {
    const k = keyPair();
    const cert = makeCert([{ name: 'commonName', value: id }, { name: 'organizationalUnitName', value: role }, { name: 'organizationName', value: 'cluster1' }], k, { cert: caCert, key: caKeys.privateKey }, false, serial);
    return { key: forge.pki.privateKeyToPem(k.privateKey), cert: forge.pki.certificateToPem(cert), ca };
  };
  const m1 = node('m1', 'swarm-manager', '02');
  const m2 = node('m2', 'swarm-manager', '03');
  const w1 = node('w1', 'swarm-worker', '04');
  let port: ClusterPort;
  const raftSockets: tls.TLSSocket[] = [];
  const wss = new WebSocketServer({ noServer: true });
  let transport: TcpTransport;

  before(async () => {
    port = await ClusterPort.listen({
      host: '127.0.0.1',
      port: 0,
      credentials: m1,
      onRaft: (s) => {
        raftSockets.push(s);
        transport.acceptSocket(s);
      },
      onRequest: (req, res) => {
        const p = peerOf(req.socket as tls.TLSSocket);
        res.end(p ? `${p.nodeId}/${p.role}/${p.clusterId}` : 'anonymous');
      },
      onUpgrade: (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.send(`hello ${peerOf(req.socket as tls.TLSSocket)?.nodeId ?? '?'}`)),
    });
  });
  after(async () => {
    await transport?.close();
    await port.close();
  });

  const get = (creds?: { key: string; cert: string }): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: port.port, path: '/swarm/v1/ca', ca, ...(creds ?? {}), checkServerIdentity: () => undefined }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });

  it('serves HTTPS to a client without a certificate (the join), and names a verified one', async () => {
    assert.equal(await get(), 'anonymous');
    assert.equal(await get(w1), 'w1/swarm-worker/cluster1');
  });

  it('upgrades to a WebSocket on the same port', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${port.port}/swarm/v1/session`, [], { ca, key: w1.key, cert: w1.cert });
    const msg = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d) => resolve(String(d)));
      ws.once('error', reject);
    });
    ws.close();
    assert.equal(msg, 'hello w1');
  });

  it('refuses a raft connection without a client certificate', async () => {
    const before = raftSockets.length;
    const s = tls.connect({ host: '127.0.0.1', port: port.port, ca, ALPNProtocols: [ALPN_RAFT], checkServerIdentity: () => undefined });
    await new Promise<void>((resolve) => s.once('close', () => resolve()));
    assert.equal(raftSockets.length, before);
  });

  it('carries raft messages between attached transports, binding the hello to the certificate', async () => {
    const received: Message[] = [];
    transport = TcpTransport.attached({
      id: 'm1',
      address: `127.0.0.1:${port.port}`,
      tls: { ...m1, alpn: ALPN_RAFT, identify: (s) => peerOf(s)?.nodeId ?? new Error('no certificate') },
    });
    transport.onMessage((m) => received.push(m));
    const sender = await TcpTransport.listen({ id: 'm2', tls: { ...m2, alpn: ALPN_RAFT, checkServerIdentity: () => undefined } });
    sender.addPeer('m1', `127.0.0.1:${port.port}`);
    sender.send([{ type: 'heartbeat', from: 'm2', to: 'm1', term: 3 } as Message]);
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(received.length, 1);
    assert.equal(received[0]!.from, 'm2');
    // A node whose certificate says w1 cannot speak as m2.
    const liar = await TcpTransport.listen({ id: 'm2', tls: { ...w1, alpn: ALPN_RAFT, checkServerIdentity: () => undefined } });
    liar.addPeer('m1', `127.0.0.1:${port.port}`);
    liar.send([{ type: 'heartbeat', from: 'm2', to: 'm1', term: 4 } as Message]);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(received.length, 1);
    await sender.close();
    await liar.close();
  });
});
