// Join tokens, Docker's format: SWMTKN-1-<digest>-<secret>. The digest (SHA-256 of the root CA
// certificate, base 36, 50 characters) lets a joining node pin the root before it sends anything;
// the secret (25 base-36 characters) says which role the holder joins as. One token per role.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ForbiddenError, InvalidArgumentError } from '../../lib/errors.js';
import { certDigest, type Role } from './certs.js';

const PREFIX = 'SWMTKN';
const VERSION = '1';
const DIGEST_LEN = 50;
const SECRET_LEN = 25;
const BASE36 = /^[0-9a-z]+$/;

function base36(buf: Buffer, width: number): string {
  const s = BigInt(`0x${buf.toString('hex') || '0'}`).toString(36);
  return s.padStart(width, '0').slice(-width);
}

export function rootDigest(rootPem: string): string {
  return base36(certDigest(rootPem), DIGEST_LEN);
}

export function newSecret(): string {
  // 25 base-36 digits need 130 bits; 17 random bytes give 136.
  return base36(randomBytes(17), SECRET_LEN);
}

export function formatToken(rootPem: string, secret: string): string {
  return `${PREFIX}-${VERSION}-${rootDigest(rootPem)}-${secret}`;
}

export interface ParsedToken {
  digest: string;
  secret: string;
}

/** Parses a token, naming what is wrong with a malformed one. */
export function parseToken(token: string): ParsedToken {
  const parts = token.trim().split('-');
  const bad = (why: string) => new InvalidArgumentError(`invalid join token: ${why} (want ${PREFIX}-${VERSION}-<50 base-36 chars>-<25 base-36 chars>)`);
  if (parts.length !== 4) throw bad(`${parts.length} dash-separated parts, not 4`);
  const [prefix, version, digest, secret] = parts as [string, string, string, string];
  if (prefix !== PREFIX) throw bad(`prefix "${prefix}"`);
  if (version !== VERSION) throw bad(`version "${version}"`);
  if (digest.length !== DIGEST_LEN || !BASE36.test(digest)) throw bad(`the CA digest is not ${DIGEST_LEN} base-36 characters`);
  if (secret.length !== SECRET_LEN || !BASE36.test(secret)) throw bad(`the secret is not ${SECRET_LEN} base-36 characters`);
  return { digest, secret };
}

/**
 * Checks the root a manager presents against the digest in the token, before anything else is sent.
 * A mismatch means the manager is not of the cluster the token belongs to (or someone is in between).
 */
export function checkPinnedRoot(token: string, rootPem: string): void {
  const { digest } = parseToken(token);
  const actual = rootDigest(rootPem);
  if (actual !== digest) {
    throw new ForbiddenError(`the manager's root CA (digest ${actual}) does not match the join token's (digest ${digest}): refusing to join`);
  }
}

export interface ClusterTokens {
  worker: string;
  manager: string;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The role a join token grants in a cluster whose current secrets are `secrets`, compared in constant
 * time. A well-formed token of the right cluster that matches neither secret was rotated (or never
 * valid): refused with that reason.
 */
export function roleOfToken(token: string, rootPem: string, secrets: ClusterTokens): Role {
  const t = parseToken(token);
  if (t.digest !== rootDigest(rootPem)) {
    throw new ForbiddenError('join token is for another swarm (its CA digest does not match this cluster\'s root CA)');
  }
  if (sameSecret(t.secret, secrets.manager)) return 'manager';
  if (sameSecret(t.secret, secrets.worker)) return 'worker';
  throw new ForbiddenError('invalid join token: it matches neither the current worker nor the manager token (it may have been rotated)');
}
