import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxyChildConfig } from './proxy-main.js';
import { createProxyServer, type ProxyBehaviour, type ProxyHook } from './proxy-server.js';

export type { ProxyHook } from './proxy-server.js';

export const DOCKER_REGISTRY = '/usr/bin/docker-registry';

/** Where a test registry or proxy listens. */
export interface ListenOptions {
  /** A network namespace (a path such as /run/netns/NAME) to run in; the host's by default. */
  netns?: string;
  /** The IPv4 address to listen on; 127.0.0.1 by default. */
  addr?: string;
  /** The port; an ephemeral one by default. */
  port?: number;
}

export interface TestRegistry {
  /** "ADDR:PORT", e.g. "127.0.0.1:PORT" */
  host: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * `cmd args` as they run in `netns` (nsenter and setpriv exec, so the child's pid is the command's
 * own). It gets SIGTERM when this process dies: a registry left running in a bed's namespace would
 * keep the bed's sweep from removing it.
 */
function inNetns(netns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return netns ? ['nsenter', [`--net=${netns}`, '--', 'setpriv', '--pdeathsig', 'TERM', '--', cmd, ...args]] : [cmd, args];
}

/** Ends `child` (SIGTERM, then SIGKILL if it lingers) and waits for its exit. */
async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(hard);
}

/**
 * Debian's docker-registry as our child, storage in a temp dir: on a loopback ephemeral port by
 * default, or where `at` says (another network namespace, another address).
 */
export async function startRegistry(at: ListenOptions = {}): Promise<TestRegistry> {
  const addr = at.addr ?? '127.0.0.1';
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
      `  addr: ${addr}:${at.port ?? 0}`,
      '  secret: tsswarm-test',
      '',
    ].join('\n'),
  );
  const [cmd, args] = inNetns(at.netns, DOCKER_REGISTRY, ['serve', cfg]);
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const stop = async (): Promise<void> => {
    await end(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const listening = new RegExp(`listening on (${addr.replace(/\./g, '\\.')}:\\d+)`);
    const host = await new Promise<string>((resolve, reject) => {
      let log = '';
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (s: string) => {
        log += s;
        const m = listening.exec(log);
        if (m) resolve(m[1]!);
        if (log.length > 1 << 16) log = log.slice(-4096);
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`docker-registry${at.netns ? ` in ${at.netns}` : ''} exited (${code}) before listening on ${addr}: ${log.slice(-2000)}`)));
    });
    child.stderr!.resume();
    return { host, dataDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface TestProxy {
  host: string;
  /** Requests seen: "METHOD path [range]" (from a child proxy, as its reports arrive; all of them after stop()) */
  log: string[];
  stop(): Promise<void>;
}

export interface ProxyOptions extends ProxyBehaviour, ListenOptions {
  /** HTTP Basic auth with one user: the same as hook: basicAuthHook(user, password), and it can cross into another netns. */
  basicAuth?: { user: string; password: string };
}

/**
 * An HTTP proxy in front of a test registry. `hook` may answer a request itself (return true),
 * e.g. to demand auth; `cutBlob` breaks the first download of matching blobs after N bytes.
 * In another network namespace (`netns`) it is a child process (proxy-main.ts); a hook function
 * cannot go there, `basicAuth` can.
 */
export async function startProxy(upstream: string, opts: ProxyOptions = {}): Promise<TestProxy> {
  if (opts.hook && opts.basicAuth) throw new Error('startProxy: give either hook or basicAuth, not both');
  if (opts.netns) return startProxyChild(upstream, opts);
  const log: string[] = [];
  const hook = opts.basicAuth ? basicAuthHook(opts.basicAuth.user, opts.basicAuth.password) : opts.hook;
  const server = createProxyServer(upstream, { ...opts, ...(hook ? { hook } : {}) }, (line) => log.push(line));
  const addr = opts.addr ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, addr, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: `${addr}:${port}`,
    log,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const PROXY_MAIN = fileURLToPath(new URL('./proxy-main.ts', import.meta.url));
/** The project's root: `--import tsx` is resolved from the child's working directory. */
const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function startProxyChild(upstream: string, opts: ProxyOptions): Promise<TestProxy> {
  if (opts.hook) throw new Error(`startProxy: a hook function cannot run in another network namespace (${opts.netns}); give basicAuth instead`);
  const cfg: ProxyChildConfig = {
    upstream,
    addr: opts.addr ?? '127.0.0.1',
    port: opts.port ?? 0,
    ...(opts.basicAuth ? { basicAuth: opts.basicAuth } : {}),
    ...(opts.cutBlobAfter !== undefined ? { cutBlobAfter: opts.cutBlobAfter } : {}),
    ...(opts.cutTimes !== undefined ? { cutTimes: opts.cutTimes } : {}),
  };
  // The child loads TypeScript the way this process does; stdin is a pipe whose end tells it we died.
  const [cmd, args] = inNetns(opts.netns, process.execPath, ['--import', 'tsx', PROXY_MAIN, JSON.stringify(cfg)]);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: PROJECT_ROOT });
  const log: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  try {
    const host = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (s: string) => {
        buf += s;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith('request ')) log.push(line.slice(8));
          else if (line.startsWith('listening ')) resolve(line.slice(10));
        }
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the registry proxy in ${opts.netns} exited (${code}) before listening: ${stderr}`)));
    });
    return {
      host,
      log,
      stop: async () => {
        child.stdin.end();
        await end(child);
      },
    };
  } catch (err) {
    await end(child);
    throw err;
  }
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
