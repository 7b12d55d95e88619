import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { sha256, type Digest } from '../digest.js';
import { DigestMismatchError } from '../errors.js';
import { isLoopbackHost, registryEndpointHost } from '../reference.js';
import { INDEX_TYPES, MANIFEST_TYPES, MediaType } from '../schemas.js';
import { parseWwwAuthenticate, type Challenge } from './challenge.js';
import type { Credentials } from './credentials.js';

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export class UnauthorizedError extends RegistryError {
  constructor(domain: string, detail: string) {
    super(`unauthorized: ${detail} — try: tsswarm login ${domain}`, 401);
    this.name = 'UnauthorizedError';
  }
}

export interface RegistryClientOptions {
  /** http:// is used only for loopback hosts and these (host[:port]), as --insecure-registry. */
  insecureRegistries?: readonly string[];
  credentials?: Credentials;
  /** Retries of a broken blob transfer (each resumes where it broke). */
  maxRetries?: number;
  userAgent?: string;
}

const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.DockerManifest].join(', ');

type Init = RequestInit & { duplex?: 'half' };

interface Token {
  value: string;
  expires: number;
}

function isRetryableNetworkError(err: unknown): boolean {
  if (err instanceof RegistryError) return err.retryable;
  if (err instanceof DigestMismatchError) return false;
  return err instanceof TypeError || (err instanceof Error && /terminated|ECONNRESET|EPIPE|socket|closed early|other side closed|aborted/i.test(err.message));
}

/** Speaks the OCI Distribution API to one registry, with Basic and Bearer token auth. */
export class RegistryClient {
  readonly endpointHost: string;
  private base: string | undefined;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, Token>();
  private readonly insecure: boolean;

  constructor(
    readonly domain: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    this.endpointHost = registryEndpointHost(domain);
    this.insecure = isLoopbackHost(domain) || (opts.insecureRegistries ?? []).includes(domain);
  }

  /** Finds the scheme (https, or http for insecure hosts when https fails) and the auth method. */
  private async baseUrl(): Promise<string> {
    if (this.base) return this.base;
    const candidates = this.insecure ? ['https', 'http'] : ['https'];
    let lastErr: unknown;
    for (const scheme of candidates) {
      const url = `${scheme}://${this.endpointHost}`;
      try {
        const res = await fetch(`${url}/v2/`, { headers: this.baseHeaders(), redirect: 'follow' });
        await res.body?.cancel();
        if (res.status === 401) this.challenge = this.pickChallenge(res);
        this.base = url;
        return url;
      } catch (err) {
        lastErr = err;
      }
    }
    let why = lastErr instanceof Error ? (lastErr.cause instanceof Error ? lastErr.cause.message : lastErr.message) : String(lastErr);
    // fetch refuses the ports on its "bad port" list (1, 7, 25, …) without trying them; "bad port" then
    // hides the real state of the host, so connect once ourselves to report what Docker would.
    if (why === 'bad port') why = await tcpProbe(this.endpointHost);
    const hint = this.insecure ? '' : ` (plain http is only used for loopback hosts and --insecure-registry ${this.domain})`;
    throw new RegistryError(`cannot reach registry ${this.endpointHost}: ${why}${hint}`, undefined, true);
  }

  private baseHeaders(): Record<string, string> {
    return { 'user-agent': this.opts.userAgent ?? 'tsswarm' };
  }

  private pickChallenge(res: Response): Challenge | undefined {
    const cs = parseWwwAuthenticate(res.headers.get('www-authenticate') ?? '');
    return cs.find((c) => c.scheme === 'bearer') ?? cs.find((c) => c.scheme === 'basic');
  }

  private async authHeader(scope: string, force = false): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    const creds = this.opts.credentials;
    if (ch.scheme === 'basic') {
      if (!creds) throw new UnauthorizedError(this.domain, 'authentication required');
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    const cached = this.tokens.get(scope);
    if (cached && !force && cached.expires > Date.now()) return `Bearer ${cached.value}`;
    const realm = ch.params.realm;
    if (!realm) throw new RegistryError(`registry ${this.domain}: Bearer challenge without realm`);
    const u = new URL(realm);
    if (ch.params.service) u.searchParams.set('service', ch.params.service);
    if (scope) u.searchParams.set('scope', scope);
    const headers: Record<string, string> = this.baseHeaders();
    if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    const res = await fetch(u, { headers });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new UnauthorizedError(this.domain, creds ? 'the token service refused the credentials' : 'authentication required');
    }
    if (!res.ok) throw new RegistryError(`token service ${u.origin}: HTTP ${res.status}`, res.status, res.status >= 500);
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const value = body.token ?? body.access_token;
    if (!value) throw new RegistryError(`token service ${u.origin} returned no token`);
    const ttl = Math.max(30, body.expires_in ?? 60) * 1000;
    this.tokens.set(scope, { value, expires: Date.now() + ttl - 10_000 });
    return `Bearer ${value}`;
  }

  /**
   * One request with auth. A 401 refreshes the challenge/token and retries once, unless the body
   * is a stream (which cannot be replayed).
   */
  async request(method: string, pathOrUrl: string, scope: string, init: Init = {}): Promise<Response> {
    const base = await this.baseUrl();
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${base}${pathOrUrl}`;
    const replayable = init.body === undefined || init.body === null || typeof init.body === 'string' || init.body instanceof Uint8Array;
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(init.headers);
      for (const [k, v] of Object.entries(this.baseHeaders())) headers.set(k, v);
      const auth = await this.authHeader(scope, attempt > 0);
      if (auth) headers.set('authorization', auth);
      const res = await fetch(url, { ...init, method, headers, redirect: 'follow' } as RequestInit);
      if (res.status !== 401) return res;
      const detail = await errorDetail(res);
      const ch = this.pickChallenge(res);
      if (attempt > 0 || !replayable || !ch) throw new UnauthorizedError(this.domain, detail || 'authentication required');
      this.challenge = ch;
    }
  }

  /** Fetches a manifest or index; verifies it against the digest when fetched by digest. */
  async getManifest(repo: string, reference: string): Promise<{ bytes: Buffer; mediaType: string; digest: Digest }> {
    const res = await this.request('GET', `/v2/${repo}/manifests/${reference}`, `repository:${repo}:pull`, { headers: { accept: MANIFEST_ACCEPT } });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RegistryError(`manifest unknown: ${this.domain}/${repo}:${reference} does not exist in the registry`, 404);
    }
    if (!res.ok) throw new RegistryError(`GET manifest ${repo}:${reference}: HTTP ${res.status} ${await errorDetail(res)}`, res.status, res.status >= 500);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > 4 << 20) throw new RegistryError(`manifest ${repo}:${reference} is too large (${bytes.length} bytes)`);
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) throw new DigestMismatchError(`manifest ${repo}@${reference}`, reference, digest);
    const announced = res.headers.get('docker-content-digest');
    if (announced && announced.startsWith('sha256:') && announced !== digest) throw new DigestMismatchError(`manifest ${repo}:${reference} (Docker-Content-Digest)`, announced, digest);
    let mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (![...MANIFEST_TYPES, ...INDEX_TYPES].includes(mediaType)) {
      const inner = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown }).mediaType;
      mediaType = inner ?? (bytes.includes('"manifests"') ? MediaType.OciIndex : MediaType.OciManifest);
    }
    return { bytes, mediaType, digest };
  }

  /** Whole small blob (configs), verified. */
  async getBlobBytes(repo: string, digest: Digest, maxSize = 16 << 20): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    let n = 0;
    for await (const c of this.blobChunks(repo, digest, undefined)) {
      n += c.length;
      if (n > maxSize) throw new RegistryError(`blob ${digest} is larger than ${maxSize} bytes`);
      chunks.push(c);
    }
    const buf = Buffer.concat(chunks);
    const got = sha256(buf);
    if (got !== digest) throw new DigestMismatchError(`blob ${repo}@${digest}`, digest, got);
    return buf;
  }

  /**
   * A blob's bytes. A broken transfer is retried with `Range: bytes=N-` so consumers see one
   * continuous stream; digest verification is the consumer's job (it hashes while it consumes).
   */
  async *blobChunks(
    repo: string,
    digest: Digest,
    size: number | undefined,
    hooks: { onData?: (n: number) => void; onRetry?: (attempt: number, err: unknown) => void } = {},
  ): AsyncGenerator<Uint8Array> {
    let offset = 0;
    let failures = 0;
    const maxRetries = this.opts.maxRetries ?? 5;
    for (;;) {
      try {
        const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
        const res = await this.request('GET', `/v2/${repo}/blobs/${digest}`, `repository:${repo}:pull`, { headers });
        if (res.status === 404) {
          await res.body?.cancel();
          throw new RegistryError(`blob unknown: ${repo}@${digest}`, 404);
        }
        if (res.status !== 200 && res.status !== 206) {
          throw new RegistryError(`GET blob ${digest}: HTTP ${res.status} ${await errorDetail(res)}`, res.status, res.status >= 500 || res.status === 429);
        }
        // A server that ignores Range resends from 0: skip what we already have.
        let skip = res.status === 200 ? offset : 0;
        if (!res.body) throw new RegistryError(`GET blob ${digest}: empty body`, res.status, true);
        for await (const raw of res.body as unknown as AsyncIterable<Uint8Array>) {
          let chunk = raw;
          if (skip > 0) {
            if (chunk.length <= skip) {
              skip -= chunk.length;
              continue;
            }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          offset += chunk.length;
          if (size !== undefined && offset > size) throw new DigestMismatchError(`blob ${digest}: more bytes than the ${size} announced`, digest, 'oversized');
          hooks.onData?.(chunk.length);
          yield chunk;
        }
        if (size !== undefined && offset < size) throw new RegistryError(`blob ${digest}: connection closed early at ${offset}/${size} bytes`, undefined, true);
        return;
      } catch (err) {
        if (!isRetryableNetworkError(err) || ++failures > maxRetries) throw err;
        hooks.onRetry?.(failures, err);
        await sleep(Math.min(2000, 50 * 2 ** failures));
      }
    }
  }

  async hasBlob(repo: string, digest: Digest, scope = `repository:${repo}:pull,push`): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`, scope);
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw new RegistryError(`HEAD blob ${digest}: HTTP ${res.status}`, res.status, res.status >= 500);
  }

  /**
   * Uploads a blob: monolithic (POST then PUT with the body) or, with `chunkSize`, PATCH chunks
   * then a closing PUT.
   */
  async uploadBlob(
    repo: string,
    digest: Digest,
    size: number,
    source: () => AsyncIterable<Uint8Array>,
    opts: { chunkSize?: number; onData?: (n: number) => void } = {},
  ): Promise<void> {
    const scope = `repository:${repo}:pull,push`;
    const start = await this.request('POST', `/v2/${repo}/blobs/uploads/`, scope, { headers: { 'content-length': '0' } });
    await start.body?.cancel();
    if (start.status !== 202) throw new RegistryError(`starting upload of ${digest} to ${repo}: HTTP ${start.status}`, start.status, start.status >= 500);
    let location = this.absolute(start.headers.get('location'), 'upload');
    const finish = (loc: string): string => {
      const u = new URL(loc);
      u.searchParams.set('digest', digest);
      return u.toString();
    };
    const counted = async function* (src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const c of src) {
        opts.onData?.(c.length);
        yield c;
      }
    };
    if (!opts.chunkSize || size <= opts.chunkSize) {
      // undici streams an async iterable body; the DOM typings do not list it.
      const body = (size === 0 ? new Uint8Array(0) : counted(source())) as unknown as Init['body'];
      const res = await this.request('PUT', finish(location), scope, {
        body,
        duplex: 'half',
        headers: { 'content-type': 'application/octet-stream' },
      });
      if (res.status !== 201) throw new RegistryError(`uploading ${digest}: HTTP ${res.status} ${await errorDetail(res)}`, res.status, res.status >= 500);
      await res.body?.cancel();
      return;
    }
    let offset = 0;
    for await (const chunk of rechunk(source(), opts.chunkSize)) {
      const res = await this.request('PATCH', location, scope, {
        body: chunk,
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${offset + chunk.length - 1}`,
        },
      });
      if (res.status !== 202) throw new RegistryError(`uploading chunk of ${digest} at ${offset}: HTTP ${res.status} ${await errorDetail(res)}`, res.status, res.status >= 500);
      await res.body?.cancel();
      location = this.absolute(res.headers.get('location') ?? location, 'upload');
      offset += chunk.length;
      opts.onData?.(chunk.length);
    }
    const res = await this.request('PUT', finish(location), scope, { headers: { 'content-length': '0' } });
    if (res.status !== 201) throw new RegistryError(`finishing upload of ${digest}: HTTP ${res.status} ${await errorDetail(res)}`, res.status, res.status >= 500);
    await res.body?.cancel();
  }

  async putManifest(repo: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<Digest> {
    const res = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, `repository:${repo}:pull,push`, {
      body: bytes,
      headers: { 'content-type': mediaType },
    });
    if (res.status !== 201 && res.status !== 200) throw new RegistryError(`PUT manifest ${repo}:${reference}: HTTP ${res.status} ${await errorDetail(res)}`, res.status);
    await res.body?.cancel();
    const digest = sha256(bytes);
    const announced = res.headers.get('docker-content-digest');
    if (announced && announced !== digest) throw new DigestMismatchError(`registry's digest of pushed manifest ${repo}:${reference}`, digest, announced);
    return digest;
  }

  /** GET /v2/ with credentials: what `login` checks. */
  async checkLogin(): Promise<void> {
    const res = await this.request('GET', '/v2/', '');
    await res.body?.cancel();
    if (!res.ok) throw new RegistryError(`login to ${this.domain}: HTTP ${res.status}`, res.status);
  }

  private absolute(loc: string | null, what: string): string {
    if (!loc) throw new RegistryError(`registry ${this.domain}: ${what} response without Location`);
    return new URL(loc, this.base).toString();
  }
}

async function errorDetail(res: Response): Promise<string> {
  try {
    const text = await res.text();
    const j = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    if (j.errors?.length) return j.errors.map((e) => `${e.code ?? ''}: ${e.message ?? ''}`).join('; ');
    return text.slice(0, 200);
  } catch {
    return '';
  }
}

async function* rechunk(src: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of src) {
    let chunk = c;
    while (n + chunk.length >= size) {
      const take = size - n;
      parts.push(chunk.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      n = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length) {
      parts.push(chunk);
      n += chunk.length;
    }
  }
  if (n > 0) yield Buffer.concat(parts);
}

/**
 * Why a registry on a port fetch will not use is out of reach: the connection error (ECONNREFUSED …),
 * or, when something does answer there, that our HTTP client does not use that port.
 */
export async function tcpProbe(hostPort: string): Promise<string> {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(hostPort);
  const host = m?.[1] ?? m?.[2] ?? hostPort;
  const port = Number(m?.[3] ?? 443);
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(`port ${port} is on the fetch standard's list of blocked ports; use another port for the registry`);
    });
    sock.once('error', (err) => resolve(err.message));
  });
}
