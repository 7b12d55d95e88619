// The swarm's certificate authority: a root made at `swarm init`, node certificates issued from CSRs.
// node-forge builds and signs certificates; keys come from Node's crypto (forge's RSA key generation
// is pure JavaScript and takes seconds). forge signs only with RSA, so keys are RSA-2048.
//
// The CA, not the CSR, decides a certificate's subject: CN = node ID, OU = role, O = cluster ID.
// A CSR proves possession of the key and nothing else.
import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { InvalidArgumentError } from '../../lib/errors.js';

export type Role = 'manager' | 'worker';
export const ROLE_OU: Record<Role, string> = { manager: 'swarm-manager', worker: 'swarm-worker' };
export const ROOT_CN = 'swarm-ca';

/** Docker's defaults: node certificates 90 days (minimum 1 h), the root 20 years. */
export const DEFAULT_CERT_EXPIRY_MS = 90 * 24 * 3600 * 1000;
export const MIN_CERT_EXPIRY_MS = 3600 * 1000;
const ROOT_EXPIRY_MS = 20 * 365 * 24 * 3600 * 1000;
// Issued a little in the past, so a peer whose clock runs behind still accepts it.
const BACKDATE_MS = 5 * 60 * 1000;

export interface RootCA {
  certPem: string;
  keyPem: string;
}

export interface NodeIdentity {
  nodeId: string;
  role: Role;
  clusterId: string;
}

/** A new RSA key, PEM (PKCS#1). */
export function generateKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return privateKey;
}

function forgeKey(keyPem: string): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
}

function publicOf(key: forge.pki.rsa.PrivateKey): forge.pki.rsa.PublicKey {
  return forge.pki.setRsaPublicKey(key.n, key.e);
}

/** 16 random bytes, positive (a leading zero bit), as hex: unique without coordination. */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

/** Random IDs in Docker's style: 25 lowercase base-36 characters. */
export function newId(): string {
  let out = '';
  while (out.length < 25) {
    const n = BigInt(`0x${randomBytes(16).toString('hex')}`);
    out += n.toString(36);
  }
  return out.slice(0, 25);
}

export function createRootCA(now = Date.now()): RootCA {
  const keyPem = generateKey();
  const key = forgeKey(keyPem);
  const c = forge.pki.createCertificate();
  c.publicKey = publicOf(key);
  c.serialNumber = serial();
  c.validity.notBefore = new Date(now - BACKDATE_MS);
  c.validity.notAfter = new Date(now + ROOT_EXPIRY_MS);
  const subject = [{ name: 'commonName', value: ROOT_CN }];
  c.setSubject(subject);
  c.setIssuer(subject);
  c.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  c.sign(key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(c), keyPem };
}

/** A CSR for `keyPem`. Its subject is informative only: the CA sets the real one. */
export function createCSR(keyPem: string): string {
  const key = forgeKey(keyPem);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = publicOf(key);
  csr.setSubject([{ name: 'commonName', value: 'swarm-node' }]);
  csr.sign(key, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

function parseCSR(csrPem: string): forge.pki.CertificateSigningRequest {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(csrPem);
  } catch (err) {
    throw new InvalidArgumentError(`invalid certificate signing request: ${(err as Error).message}`);
  }
  let ok = false;
  try {
    ok = csr.verify();
  } catch {
    ok = false; // forge throws on a mangled signature block instead of answering false
  }
  if (!ok) throw new InvalidArgumentError('invalid certificate signing request: its signature does not match its key');
  return csr;
}

/**
 * Signs a node certificate for the key in `csrPem`. The SAN holds the node ID as a DNS name (peers
 * check a manager by its ID, not by the address they dialled) and, when given, its addresses.
 */
export function issue(
  root: RootCA,
  csrPem: string,
  who: NodeIdentity,
  opts: { expiryMs?: number; ips?: string[]; now?: number } = {},
): string {
  const expiry = opts.expiryMs ?? DEFAULT_CERT_EXPIRY_MS;
  if (expiry < MIN_CERT_EXPIRY_MS) throw new InvalidArgumentError(`certificate expiry ${expiry} ms is under the minimum of 1h`);
  const csr = parseCSR(csrPem);
  const caCert = forge.pki.certificateFromPem(root.certPem);
  const now = opts.now ?? Date.now();
  const c = forge.pki.createCertificate();
  c.publicKey = csr.publicKey as forge.pki.rsa.PublicKey;
  c.serialNumber = serial();
  c.validity.notBefore = new Date(now - BACKDATE_MS);
  c.validity.notAfter = new Date(now + expiry);
  c.setSubject([
    { name: 'commonName', value: who.nodeId },
    { name: 'organizationalUnitName', value: ROLE_OU[who.role] },
    { name: 'organizationName', value: who.clusterId },
  ]);
  c.setIssuer(caCert.subject.attributes);
  c.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: who.nodeId },
        { type: 2, value: ROLE_OU[who.role] },
        ...(opts.ips ?? []).map((ip) => ({ type: 7, ip })),
      ],
    },
  ]);
  c.sign(forgeKey(root.keyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(c);
}

/**
 * Root rotation's bridge: the new root's name and key, signed by the old root. A node that trusts only
 * the old root verifies a certificate from the new root through it (leaf → cross-signed → old root).
 */
export function crossSign(oldRoot: RootCA, newRootPem: string, now = Date.now()): string {
  const fresh = forge.pki.certificateFromPem(newRootPem);
  const old = forge.pki.certificateFromPem(oldRoot.certPem);
  const c = forge.pki.createCertificate();
  c.publicKey = fresh.publicKey;
  c.serialNumber = serial();
  c.validity.notBefore = new Date(now - BACKDATE_MS);
  c.validity.notAfter = fresh.validity.notAfter;
  c.setSubject(fresh.subject.attributes);
  c.setIssuer(old.subject.attributes);
  c.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  c.sign(forgeKey(oldRoot.keyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(c);
}

/** A root whose CN differs from `swarm-ca`'s predecessor, so chains never confuse the two. */
export function createNextRootCA(generation: number, now = Date.now()): RootCA {
  const r = createRootCA(now);
  if (generation <= 0) return r;
  const key = forgeKey(r.keyPem);
  const c = forge.pki.createCertificate();
  c.publicKey = publicOf(key);
  c.serialNumber = serial();
  c.validity.notBefore = new Date(now - BACKDATE_MS);
  c.validity.notAfter = new Date(now + ROOT_EXPIRY_MS);
  const subject = [{ name: 'commonName', value: `${ROOT_CN}-${generation}` }];
  c.setSubject(subject);
  c.setIssuer(subject);
  c.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  c.sign(key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(c), keyPem: r.keyPem };
}

export interface CertInfo extends NodeIdentity {
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

const OU_ROLE: Record<string, Role> = { 'swarm-manager': 'manager', 'swarm-worker': 'worker' };

/** What a node certificate says, parsed with Node's X509 (no forge on the hot path). */
export function certInfo(certPem: string): CertInfo {
  const x = new X509Certificate(certPem);
  const field = (name: string): string => x.subject.split('\n').find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1) ?? '';
  const role = OU_ROLE[field('OU')];
  if (!role) throw new InvalidArgumentError(`certificate ${x.serialNumber} has no swarm role (OU=${field('OU') || 'none'})`);
  return {
    nodeId: field('CN'),
    role,
    clusterId: field('O'),
    serial: x.serialNumber.toLowerCase(),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
  };
}

/** Whether `certPem` was signed by `rootPem` (and is within its validity at `now`). */
export function verifiedBy(certPem: string, rootPem: string, now = Date.now()): boolean {
  const x = new X509Certificate(certPem);
  const r = new X509Certificate(rootPem);
  if (!x.checkIssued(r) || !x.verify(r.publicKey)) return false;
  return now >= Date.parse(x.validFrom) && now <= Date.parse(x.validTo);
}

/** SHA-256 of the certificate's DER: what a join token pins. */
export function certDigest(certPem: string): Buffer {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest();
}

/**
 * When to renew: at a random point between 50% and 80% of the certificate's life (as SwarmKit
 * does), so a cluster's nodes do not all renew at once. `rand` in [0, 1) is injected for tests.
 */
export function renewAt(info: Pick<CertInfo, 'notBefore' | 'notAfter'>, rand: number): Date {
  const life = info.notAfter.getTime() - info.notBefore.getTime();
  return new Date(info.notBefore.getTime() + life * (0.5 + 0.3 * rand));
}
