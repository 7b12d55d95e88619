import { createHash, type Hash } from 'node:crypto';
import { z } from 'zod';

/** A content digest. Only sha256 is accepted: it is what every registry and runtime uses. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export const DigestSchema = z.string().regex(DIGEST_RE, 'expected sha256:<64 hex>').transform((s) => s as Digest);

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Running sha256 + byte count over a stream of chunks. */
export class Hasher {
  private readonly hash: Hash = createHash('sha256');
  size = 0;
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }
  digest(): Digest {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/** OCI chain ID: identifies a layer together with everything below it. */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : sha256(`${prev} ${d}`));
  }
  return out;
}

export function chainIdOf(parent: Digest | null, diffId: Digest): Digest {
  return parent === null ? diffId : sha256(`${parent} ${diffId}`);
}
