import assert from 'node:assert/strict';
import { createServer, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { ForbiddenError, InvalidArgumentError } from '../../lib/errors.js';
import { authorize, MemoryRevocations } from './authorize.js';
import { certInfo, createCSR, createRootCA, generateKey, issue, newId, renewAt, verifiedBy, MIN_CERT_EXPIRY_MS } from './certs.js';
import { JoinLimiter } from './join-limiter.js';
import { isSealed, newUnlockKey, open, parseUnlockKey, seal } from './kek.js';
import { checkPinnedRoot, formatToken, newSecret, parseToken, roleOfToken, rootDigest } from './tokens.js';

describe('manager/ca', function () {
  this.timeout(30_000);
  // Key generation costs ~50-100 ms each: made once and shared where sharing weakens nothing.
  const root = createRootCA();
  const other = createRootCA();
  const clusterId = newId();
  const keys = { m: generateKey(), w: generateKey() };
  const mCert = issue(root, createCSR(keys.m), { nodeId: 'node-m', role: 'manager', clusterId }, { ips: ['127.0.0.1'] });
  const wCert = issue(root, createCSR(keys.w), { nodeId: 'node-w', role: 'worker', clusterId }, { ips: ['127.0.0.1'] });

  describe('issuance', () => {
    it('sets CN, OU and O itself, whatever the CSR says, with a 90-day default', () => {
      const info = certInfo(wCert);
      assert.equal(info.nodeId, 'node-w');
      assert.equal(info.role, 'worker');
      assert.equal(info.clusterId, clusterId);
      const days = (info.notAfter.getTime() - Date.now()) / 86400_000;
      assert.ok(days > 89.9 && days <= 90, `expiry ${days} days`);
      assert.ok(verifiedBy(wCert, root.certPem));
      assert.equal(verifiedBy(wCert, other.certPem), false);
    });
    it('refuses a malformed or forged CSR and a too-short expiry, naming why', () => {
      assert.throws(() => issue(root, 'not a csr', { nodeId: 'x', role: 'worker', clusterId }), (e: unknown) => e instanceof InvalidArgumentError && /certificate signing request/.test(e.message));
      const csr = createCSR(keys.w);
      // Flip a byte inside the base64 body: the signature no longer matches.
      const lines = csr.split('\n');
      lines[3] = lines[3]!.slice(0, 10) + (lines[3]![10] === 'A' ? 'B' : 'A') + lines[3]!.slice(11);
      assert.throws(() => issue(root, lines.join('\n'), { nodeId: 'x', role: 'worker', clusterId }), InvalidArgumentError);
      assert.throws(() => issue(root, csr, { nodeId: 'x', role: 'worker', clusterId }, { expiryMs: MIN_CERT_EXPIRY_MS - 1 }), /minimum of 1h/);
    });
    it('renews between 50% and 80% of the life', () => {
      const info = { notBefore: new Date(0), notAfter: new Date(1000) };
      assert.equal(renewAt(info, 0).getTime(), 500);
      assert.equal(renewAt(info, 0.5).getTime(), 650);
      assert.ok(renewAt(info, 0.999999).getTime() <= 800);
    });
    it('makes 25-character base-36 IDs', () => {
      const ids = new Set(Array.from({ length: 100 }, newId));
      assert.equal(ids.size, 100);
      for (const id of ids) assert.match(id, /^[0-9a-z]{25}$/);
    });
  });

  describe('join tokens', () => {
    const secrets = { worker: newSecret(), manager: newSecret() };
    const workerToken = formatToken(root.certPem, secrets.worker);
    const managerToken = formatToken(root.certPem, secrets.manager);
    it("has Docker's shape and grants the role of its secret", () => {
      assert.match(workerToken, /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
      assert.equal(roleOfToken(workerToken, root.certPem, secrets), 'worker');
      assert.equal(roleOfToken(managerToken, root.certPem, secrets), 'manager');
    });
    it('names what is wrong with a malformed token', () => {
      assert.throws(() => parseToken('SWMTKN-1-abc'), /3 dash-separated parts/);
      assert.throws(() => parseToken(workerToken.replace('SWMTKN', 'XXX')), /prefix "XXX"/);
      assert.throws(() => parseToken(workerToken.replace('-1-', '-2-')), /version "2"/);
      assert.throws(() => parseToken(workerToken.slice(0, -1)), /secret is not 25/);
    });
    it('refuses a rotated token and another swarm’s token', () => {
      const rotated = { ...secrets, worker: newSecret() };
      assert.throws(() => roleOfToken(workerToken, root.certPem, rotated), (e: unknown) => e instanceof ForbiddenError && /rotated/.test(e.message));
      assert.throws(() => roleOfToken(formatToken(other.certPem, secrets.worker), root.certPem, secrets), /another swarm/);
    });
    it('pins the root CA by its digest before anything is sent', () => {
      checkPinnedRoot(workerToken, root.certPem);
      assert.throws(() => checkPinnedRoot(workerToken, other.certPem), /does not match the join token/);
      assert.equal(rootDigest(root.certPem).length, 50);
    });
  });

  describe('mutual TLS with role checks over a real https server', () => {
    const rev = new MemoryRevocations();
    let port = 0;
    const server = createServer({ key: keys.m, cert: mCert, ca: root.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const s = req.socket as TLSSocket;
      const c = s.authorized ? s.getPeerCertificate() : undefined;
      const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0]! : (v ?? ''));
      const peer = c?.subject ? { nodeId: one(c.subject.CN), role: one(c.subject.OU), clusterId: one(c.subject.O), serial: c.serialNumber } : undefined;
      try {
        const allowed = req.url === '/control' ? (['manager'] as const) : (['manager', 'worker'] as const);
        res.end(`ok ${authorize(peer, clusterId, allowed, rev)}`);
      } catch (e) {
        res.statusCode = 403;
        res.end((e as Error).message);
      }
    });
    before(() => new Promise<void>((r) => server.listen(0, '127.0.0.1', () => ((port = (server.address() as { port: number }).port), r()))));
    after(() => new Promise<void>((r) => server.close(() => r())));
    const call = (path: string, creds?: { key: string; cert: string }, ca = root.certPem) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, ca, ...(creds ?? {}) }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });

    it('lets a manager call control and a worker only the session', async () => {
      assert.deepEqual(await call('/control', { key: keys.m, cert: mCert }), { status: 200, body: 'ok manager' });
      assert.deepEqual(await call('/session', { key: keys.w, cert: wCert }), { status: 200, body: 'ok worker' });
      const r = await call('/control', { key: keys.w, cert: wCert });
      assert.equal(r.status, 403);
      assert.match(r.body, /a worker node \(node-w\) may not call this/);
    });
    it('refuses no certificate, another cluster’s, and a revoked one at once', async () => {
      assert.match((await call('/session')).body, /certificate of this swarm is required/);
      const foreign = issue(other, createCSR(keys.w), { nodeId: 'node-w', role: 'worker', clusterId: 'other' });
      assert.match((await call('/session', { key: keys.w, cert: foreign })).body, /certificate of this swarm is required/);
      const wrongO = issue(root, createCSR(keys.w), { nodeId: 'node-x', role: 'worker', clusterId: 'other' });
      assert.match((await call('/session', { key: keys.w, cert: wrongO })).body, /belongs to another swarm/);
      rev.revokeNode('node-w');
      assert.match((await call('/session', { key: keys.w, cert: wCert })).body, /was removed from the swarm/);
    });
    it('a client that pins another root refuses the server', async () => {
      await assert.rejects(call('/session', { key: keys.m, cert: mCert }, other.certPem), /self-signed|unable to verify|certificate/);
    });
  });

  describe('join limiter', () => {
    it('blocks a source after repeated failures for the window, not others', () => {
      const l = new JoinLimiter(3, 1000);
      for (let i = 0; i < 3; i++) l.fail('10.0.0.2', 100 + i);
      assert.equal(l.retryAfter('10.0.0.2', 200), 900);
      assert.equal(l.retryAfter('10.0.0.3', 200), 0);
      assert.equal(l.retryAfter('10.0.0.2', 1101), 0);
    });
  });

  describe('autolock keys', () => {
    it('seals and opens; a wrong key or altered data is refused', () => {
      const k = parseUnlockKey(newUnlockKey());
      const sealed = seal(k, Buffer.from('tls key'), 'node-m');
      assert.ok(isSealed(sealed));
      assert.equal(open(k, sealed, 'node-m').toString(), 'tls key');
      assert.throws(() => open(parseUnlockKey(newUnlockKey()), sealed, 'node-m'), /wrong unlock key/);
      assert.throws(() => open(k, sealed, 'node-x'), /wrong unlock key/);
      assert.throws(() => parseUnlockKey('SWMKEY-1-abc'), /want 32/);
    });
  });
});
