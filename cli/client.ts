// The CLIs' connection to the daemon: HTTP+JSON over the unix socket, starting a background daemon
// when none answers on the default socket (design §1), so a new user's first command just works.
// Buffered calls go over node:net (cli/run-client.ts's plainRequest); node:http, which costs a fresh
// CLI process tens of milliseconds to load, only for streams.
import type { IncomingMessage } from 'node:http';
import { spawn } from 'node:child_process';
import { fchmodSync, openSync, mkdirSync, realpathSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withHint } from './hints.js';
import { ConnectError, plainRequest, type PlainReply } from './run-client.js';
import { DEFAULT_HOST, DEFAULT_DATA_ROOT, socketPath, clientHost } from '../api/daemon.js';

export class DaemonError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(withHint(message));
    this.name = 'DaemonError';
  }
}

export class NoDaemonError extends Error {
  constructor(host: string, cause?: string) {
    super(
      `cannot connect to the tsswarm daemon at ${host}${cause ? ` (${cause})` : ''}. Is the daemon running? Start one with: tsswarm daemon`,
    );
    this.name = 'NoDaemonError';
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** Extra request headers (X-Registry-Auth). */
  headers?: Record<string, string>;
}

export class Client {
  private started = false;

  constructor(readonly host: string = clientHost()) {}

  private url(path: string, query?: RequestOptions['query']): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const s = qs.toString();
    return `/v1.41${path}${s ? `?${s}` : ''}`;
  }

  /** Sends one request and returns the raw response (for streams). */
  async raw(path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    try {
      return await this.send(path, opts);
    } catch (err) {
      if (!(err instanceof NoDaemonError) || !this.mayAutostart()) throw err;
      await this.autostart();
      return this.send(path, opts);
    }
  }

  /** Sends one request and parses a JSON (or text) answer; non-2xx becomes DaemonError with the daemon's message. */
  async call<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    let res: PlainReply;
    try {
      res = await this.plain(path, opts);
    } catch (err) {
      if (!(err instanceof NoDaemonError) || !this.mayAutostart()) throw err;
      await this.autostart();
      res = await this.plain(path, opts);
    }
    const text = res.body.toString('utf8');
    const isJson = (res.headers['content-type'] ?? '').includes('json');
    const status = res.status;
    if (status >= 400) {
      let message = text;
      if (isJson) {
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? text;
        } catch {
          /* keep text */
        }
      }
      throw new DaemonError(status, message);
    }
    if (status === 204 || text === '') return undefined as T;
    return (isJson ? JSON.parse(text) : text) as T;
  }

  /** Like call(), but never starts a daemon (for commands that only report). */
  async callNoAutostart<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    this.started = true;
    return this.call<T>(path, opts);
  }

  private async plain(path: string, opts: RequestOptions): Promise<PlainReply> {
    try {
      return await plainRequest(this.host, opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), this.url(path, opts.query), opts.body, opts.headers);
    } catch (err) {
      if (err instanceof ConnectError) throw new NoDaemonError(this.host, err.code);
      throw err;
    }
  }

  private async send(path: string, opts: RequestOptions): Promise<IncomingMessage> {
    const { request: httpRequest } = await import('node:http');
    const sock = socketPath(this.host);
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          socketPath: sock,
          path: this.url(path, opts.query),
          method: opts.method ?? (body ? 'POST' : 'GET'),
          headers: { ...opts.headers, ...(body ? { 'Content-Type': 'application/json', 'Content-Length': body.length } : {}) },
        },
        resolve,
      );
      req.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new NoDaemonError(this.host, err.code));
        else reject(err);
      });
      req.end(body);
    });
  }

  /**
   * POST with a streamed request body (stdin for exec/attach) while the response streams back.
   * Chunked: the daemon sees the end of input when `input` ends.
   */
  async rawStream(path: string, input: NodeJS.ReadableStream | undefined, query?: RequestOptions['query'], opts: { method?: string; contentType?: string } = {}): Promise<IncomingMessage> {
    const method = opts.method ?? 'POST';
    if (!input) return this.raw(path, { method, query });
    const sock = socketPath(this.host);
    const { request: httpRequest } = await import('node:http');
    return new Promise((resolve, reject) => {
      const req = httpRequest({ socketPath: sock, path: this.url(path, query), method, headers: { 'Content-Type': opts.contentType ?? 'application/octet-stream' } }, resolve);
      req.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new NoDaemonError(this.host, err.code));
        else reject(err);
      });
      req.flushHeaders();
      input.pipe(req);
    });
  }

  private mayAutostart(): boolean {
    return !this.started && this.host === DEFAULT_HOST && process.env.TSSWARM_NO_AUTOSTART !== '1';
  }

  /** Starts `tsswarm daemon` detached, logging to the data root, and waits until it answers. */
  private async autostart(): Promise<void> {
    this.started = true;
    process.stderr.write(`tsswarm: no daemon answered on ${this.host}; starting one in the background (log: ${DEFAULT_DATA_ROOT}/daemon.log)\n`);
    mkdirSync(DEFAULT_DATA_ROOT, { recursive: true });
    // The daemon's log may name images, containers and paths: root only (Docker's files are 0600).
    const logFd = openSync(`${DEFAULT_DATA_ROOT}/daemon.log`, 'a', 0o600);
    fchmodSync(logFd, 0o600);
    const child = spawn(process.execPath, [...process.execArgv, selfScript(), 'daemon'], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, TSSWARM_NO_AUTOSTART: '1' },
    });
    child.unref();
    let exited: number | null | undefined;
    child.once('exit', (code) => (exited = code));
    const deadline = Date.now() + 15_000;
    let lastErr: unknown;
    while (Date.now() < deadline) {
      if (exited !== undefined) {
        // Say why, from the daemon's own last words, rather than a bare "cannot connect".
        const log = readFileSync(`${DEFAULT_DATA_ROOT}/daemon.log`, 'utf8').trimEnd().split('\n');
        throw new NoDaemonError(this.host, `the daemon it started exited with code ${exited}: ${log.slice(-2).join(' / ')}`);
      }
      try {
        const res = await this.send('/_ping', {});
        res.resume();
        if (res.statusCode === 200) return;
      } catch (err) {
        lastErr = err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new NoDaemonError(this.host, `a daemon was started but did not answer within 15 s: ${String(lastErr)}`);
  }
}

/**
 * The script to run as the daemon: `tsswarm` beside the running CLI (tscompose starts a tsswarm daemon
 * too). Bundled, that is dist/tsswarm.js; in development, cli/tsswarm.ts run through tsx.
 */
function selfScript(): string {
  const dir = dirname(realpathSync(process.argv[1]));
  return join(dir, process.env.TSSWARM_BUNDLED === '1' ? 'tsswarm.js' : 'tsswarm.ts');
}
