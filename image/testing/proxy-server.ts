// The HTTP proxy that sits in front of a test registry: it records every request, lets a hook answer
// some itself (auth), and can break blob downloads part-way. Shared by the in-process proxy and the
// child-process one that runs inside another network namespace (proxy-main.ts).
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type ProxyHook = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface ProxyBehaviour {
  /** May answer a request itself (return true), e.g. to demand auth. */
  hook?: ProxyHook;
  /** Breaks the first `cutTimes` (1) downloads of blobs after this many bytes. */
  cutBlobAfter?: number;
  cutTimes?: number;
}

/** An unstarted server forwarding to `upstream` ("host:port"); `record` gets "METHOD path [range]" per request. */
export function createProxyServer(upstream: string, opts: ProxyBehaviour, record: (line: string) => void): Server {
  const [upHost, upPort] = splitHostPort(upstream);
  let cuts = 0;
  return createServer((req, res) => {
    void (async () => {
      record(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
      if (opts.hook && (await opts.hook(req, res))) return;
      const up = httpRequest({ host: upHost, port: upPort, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '') && upRes.statusCode === 200;
        if (isBlob && opts.cutBlobAfter !== undefined && cuts < (opts.cutTimes ?? 1)) {
          cuts++;
          const limit = opts.cutBlobAfter;
          let sent = 0;
          upRes.on('data', (c: Buffer) => {
            if (sent >= limit) return;
            const part = c.subarray(0, limit - sent);
            sent += part.length;
            res.write(part);
            if (sent >= limit) {
              upRes.destroy();
              res.socket?.destroy();
            }
          });
          upRes.on('end', () => res.end());
          return;
        }
        upRes.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    })();
  });
}

/** "10.1.2.3:5000" -> ["10.1.2.3", 5000]; the error names the value and the form wanted. */
export function splitHostPort(hostPort: string): [string, number] {
  const i = hostPort.lastIndexOf(':');
  const port = Number(hostPort.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`registry address "${hostPort}" is not HOST:PORT`);
  return [hostPort.slice(0, i), port];
}
