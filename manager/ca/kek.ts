// Autolock: the managers' TLS key (and raft's data key) are sealed at rest with a key the user holds,
// `SWMKEY-1-<base64 of 32 bytes>` as Docker prints it. AES-256-GCM: tampering is detected, not just
// hidden. The same sealing, with a cluster data key, keeps secrets encrypted in the store.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ForbiddenError, InvalidArgumentError } from '../../lib/errors.js';

const PREFIX = 'SWMKEY-1-';
const MAGIC = Buffer.from('TSK1');

export function newUnlockKey(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

export function parseUnlockKey(text: string): Buffer {
  const t = text.trim();
  if (!t.startsWith(PREFIX)) throw new InvalidArgumentError(`invalid unlock key: it must start with ${PREFIX}`);
  const key = Buffer.from(t.slice(PREFIX.length), 'base64');
  if (key.length !== 32) throw new InvalidArgumentError(`invalid unlock key: ${key.length} bytes after the prefix, want 32`);
  return key;
}

/** Seals `plain` under a 32-byte key; `aad` (e.g. an object ID) binds the ciphertext to its place. */
export function seal(key: Buffer, plain: Buffer, aad = ''): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([MAGIC, iv, c.getAuthTag(), body]);
}

export function isSealed(data: Buffer): boolean {
  return data.length >= MAGIC.length + 28 && data.subarray(0, MAGIC.length).equals(MAGIC);
}

export function open(key: Buffer, sealed: Buffer, aad = ''): Buffer {
  if (!isSealed(sealed)) throw new InvalidArgumentError('not sealed data');
  const iv = sealed.subarray(4, 16);
  const tag = sealed.subarray(16, 32);
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(sealed.subarray(32)), d.final()]);
  } catch {
    throw new ForbiddenError('wrong unlock key, or the sealed data was altered');
  }
}
