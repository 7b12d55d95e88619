import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DOCKER_REGISTRY = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Debian's docker-registry on a loopback ephemeral port, as our child, storage in a temp dir. */
export async function startRegistry(): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'tsswarm-registry-'));
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const cfg = join(dir, 'config.yml');
  await writeFile(
    cfg,
    [
      'version: 0.1',
      'log:',
      '  level: info',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${dataDir}`,
      '  delete:',
      '    enabled: true',
      'http:',
      '  addr: 127.0.0.1:0',
      '  secret: tsswarm-test',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(DOCKER_REGISTRY, ['serve', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const host = await new Promise<string>((resolve, reject) => {
      let log = '';
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (s: string) => {
        log += s;
        const m = /listening on (127\.0\.0\.1:\d+)/.exec(log);
        if (m) resolve(m[1]!);
        if (log.length > 1 << 16) log = log.slice(-4096);
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`docker-registry exited (${code}) before listening: ${log.slice(-2000)}`)));
    });
    child.stderr!.resume();
    return { host, dataDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export type ProxyHook = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface TestProxy {
  host: string;
  /** Requests seen: "METHOD path [range]" */
  log: string[];
  stop(): Promise<void>;
}

/**
 * An HTTP proxy in front of a test registry. `hook` may answer a request itself (return true),
 * e.g. to demand auth; `cutBlob` breaks the first download of matching blobs after N bytes.
 */
export async function startProxy(
  upstream: string,
  opts: { hook?: ProxyHook; cutBlobAfter?: number; cutTimes?: number; /** Listen on this unix socket instead of a loopback port (`host` is then the path). */ socketPath?: string } = {},
): Promise<TestProxy> {
  const log: string[] = [];
  let cuts = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      log.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
      if (opts.hook && (await opts.hook(req, res))) return;
      const up = httpRequest(
        { host: upstream.split(':')[0], port: Number(upstream.split(':')[1]), method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '') && upRes.statusCode === 200;
          if (isBlob && opts.cutBlobAfter !== undefined && cuts < (opts.cutTimes ?? 1)) {
            cuts++;
            let sent = 0;
            upRes.on('data', (c: Buffer) => {
              if (sent >= opts.cutBlobAfter!) return;
              const part = c.subarray(0, opts.cutBlobAfter! - sent);
              sent += part.length;
              res.write(part);
              if (sent >= opts.cutBlobAfter!) {
                upRes.destroy();
                res.socket?.destroy();
              }
            });
            upRes.on('end', () => res.end());
            return;
          }
          upRes.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    })();
  });
  if (opts.socketPath) await new Promise<void>((r) => server.listen(opts.socketPath, r));
  else await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: opts.socketPath ?? `127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Hook: HTTP Basic auth with one user. */
export function basicAuthHook(user: string, password: string): ProxyHook {
  const want = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return (req, res) => {
    if (req.headers.authorization === want) {
      delete req.headers.authorization;
      return false;
    }
    res.writeHead(401, { 'www-authenticate': 'Basic realm="tsswarm-test"', 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    return true;
  };
}

/**
 * Hook: Bearer token auth the way Docker Hub does it. GET /token (Basic user:password) issues a
 * token bound to the scope asked for; registry calls need a token whose scope covers them.
 */
export function bearerAuthHook(user: string, password: string, proxyHost: () => string): ProxyHook & { tokensIssued: () => number } {
  const tokens = new Map<string, string>();
  let issued = 0;
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const hook = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      if (req.headers.authorization !== basic) {
        res.writeHead(401).end();
        return true;
      }
      const token = `tok-${++issued}-${Math.random().toString(36).slice(2)}`;
      tokens.set(token, url.searchParams.get('scope') ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token, expires_in: 300 }));
      return true;
    }
    const m = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(url.pathname);
    const needed = m ? `repository:${m[1]}:${req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push'}` : '';
    const auth = req.headers.authorization ?? '';
    const scope = auth.startsWith('Bearer ') ? tokens.get(auth.slice(7)) : undefined;
    const covers = scope !== undefined && (needed === '' || scope.split(' ').some((s) => {
      const [kind, repo, actions] = s.split(':');
      const want = needed.split(':');
      return kind === want[0] && repo === want[1] && (actions ?? '').split(',').includes(want[2]!);
    }));
    if (covers) {
      delete req.headers.authorization;
      return false;
    }
    const challengeScope = m ? `repository:${m[1]}:${needed.endsWith('push') ? 'pull,push' : 'pull'}` : '';
    res.writeHead(401, {
      'www-authenticate': `Bearer realm="http://${proxyHost()}/token",service="tsswarm-test"${challengeScope ? `,scope="${challengeScope}"` : ''}`,
      'content-type': 'application/json',
    });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    return true;
  };
  return Object.assign(hook, { tokensIssued: () => issued });
}
