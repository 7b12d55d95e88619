// A small router for the Engine API: Docker-style paths with `{name}` parameters and an optional
// `/v1.NN` version prefix, JSON errors of Docker's shape ({"message": …}).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError, InvalidArgumentError } from '../../lib/errors.js';
import { sendJson, statusOfKind } from '../../lib/http.js';
import { API_VERSION } from '../../lib/version.js';
import { isHijacked } from './hijack.js';
import { MIN_API_VERSION, compareVersions, parseVersionPrefix } from './api-version.js';

/** An HTTP-level refusal made by the API layer itself (a bad query parameter, a missing route). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, what);
export const badRequest = (what: string): ApiError => new ApiError(400, what);
export const conflict = (what: string): ApiError => new ApiError(409, what);

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version the client asked for in its `/vX.Y/` prefix, or ours when it sent none. */
  apiVersion: string;
  /** Reads and parses the JSON body (empty body → undefined). */
  json(): Promise<unknown>;
}

/** A handler returns a value to send as JSON (status 200, or 204 for undefined) or handles `res` itself. */
export type Handler = (ctx: RequestContext) => Promise<unknown>;

interface Route {
  method: string;
  parts: string[];
  /** Index of a `{name*}` part: it takes every segment between the parts before and after it. */
  rest: number;
  handler: Handler;
}

/** Marker a handler returns when it has written the response itself (streams, hijacked sockets). */
export const HANDLED = Symbol('handled');

/** A boolean query parameter as Docker's clients send it ("1" or "true"). */
export const truthy = (v: string | null): boolean => v === '1' || v === 'true';

/** The `version` query parameter of an update: the object's Version.Index the change was made from. */
export function versionParam(q: URLSearchParams): number {
  const v = Number(q.get('version'));
  if (!q.has('version') || !Number.isInteger(v) || v < 0) throw new InvalidArgumentError('invalid or missing version query parameter (the object Version.Index to update from)');
  return v;
}

export class Router {
  private routes: Route[] = [];

  /**
   * `{name}` takes one path segment; `{name*}` (one per route) takes one or more, as Docker's image
   * routes take a name with slashes (`/images/{name*}/json` matches `/images/reg:5000/ns/app:v1/json`).
   * Routes without `{name*}` are tried first, so `/images/json` is never a name.
   */
  add(method: string, path: string, handler: Handler): this {
    const parts = path.split('/').filter(Boolean);
    const rest = parts.findIndex((p) => p.startsWith('{') && p.endsWith('*}'));
    if (rest >= 0 && parts.findIndex((p, i) => i > rest && p.endsWith('*}')) >= 0) throw new Error(`route ${path}: only one {name*} part is allowed`);
    this.routes.push({ method, parts, rest, handler });
    return this;
  }
  get(path: string, h: Handler): this {
    return this.add('GET', path, h);
  }
  post(path: string, h: Handler): this {
    return this.add('POST', path, h);
  }
  delete(path: string, h: Handler): this {
    return this.add('DELETE', path, h);
  }
  head(path: string, h: Handler): this {
    return this.add('HEAD', path, h);
  }

  match(method: string, pathname: string): { handler: Handler; params: Record<string, string> } | undefined {
    const parts = pathname.split('/').filter(Boolean).map((seg) => {
      try {
        return decodeURIComponent(seg);
      } catch {
        // A client's mistake, not the daemon's: say which segment, as a 400.
        throw new ApiError(400, `invalid percent-encoding in path segment ${JSON.stringify(seg)} of ${pathname}`);
      }
    });
    let methodMismatch = false;
    for (const pass of [false, true]) {
      for (const r of this.routes) {
        if (r.rest >= 0 !== pass) continue;
        const params = matchParts(r, parts);
        if (!params) continue;
        if (r.method !== method) {
          methodMismatch = true;
          continue;
        }
        return { handler: r.handler, params };
      }
    }
    if (methodMismatch) throw new ApiError(405, `method ${method} not allowed on ${pathname}`);
    return undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // Inside the try: a target URL cannot parse (`GET // HTTP/1.1`) is the client's mistake; thrown
      // outside, it rejected handle() unanswered and the unhandled rejection ended the daemon.
      const url = requestUrl(req);
      const { version, path } = parseVersionPrefix(url.pathname);
      if (version !== undefined) checkVersion(version);
      const m = this.match(req.method ?? 'GET', path);
      if (!m) throw new ApiError(404, `page not found: ${req.method} ${url.pathname}`);
      const ctx: RequestContext = {
        req,
        res,
        params: m.params,
        query: url.searchParams,
        apiVersion: version ?? API_VERSION,
        json: () => readJson(req, res),
      };
      const out = await m.handler(ctx);
      if (out === HANDLED) return;
      if (out === undefined) {
        res.writeHead(204).end();
        return;
      }
      if (typeof out === 'string') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(out);
        return;
      }
      sendJson(res, 200, out);
    } catch (err) {
      const status = httpStatus(err);
      const message = err instanceof Error ? err.message : String(err);
      // After a hijack the socket carries the container's stream: an HTTP error there would reach
      // the client as stream bytes ("Unrecognized input header"), so the stream just ends.
      if (isHijacked(req.socket)) req.socket.end(() => req.socket.destroy());
      else if (!res.headersSent) sendJson(res, status, { message });
      else res.destroy();
    }
  }
}

function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '/';
  try {
    return new URL(target, 'http://localhost');
  } catch {
    throw new ApiError(400, `invalid request target ${JSON.stringify(target)}: expected an absolute path such as /v1.41/containers/json`);
  }
}

function matchParts(r: Route, parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const one = (pattern: string, value: string): boolean => {
    if (pattern.startsWith('{') && pattern.endsWith('}')) {
      params[pattern.slice(1, -1)] = value;
      return true;
    }
    return pattern === value;
  };
  if (r.rest < 0) {
    if (r.parts.length !== parts.length) return undefined;
    return r.parts.every((p, i) => one(p, parts[i]!)) ? params : undefined;
  }
  const after = r.parts.length - r.rest - 1;
  if (parts.length < r.parts.length) return undefined;
  for (let i = 0; i < r.rest; i++) if (!one(r.parts[i]!, parts[i]!)) return undefined;
  for (let i = 1; i <= after; i++) if (!one(r.parts[r.parts.length - i]!, parts[parts.length - i]!)) return undefined;
  params[r.parts[r.rest]!.slice(1, -2)] = parts.slice(r.rest, parts.length - after).join('/');
  return params;
}

/** Docker's refusal of a version outside [MIN_API_VERSION, API_VERSION], word for word. */
function checkVersion(v: string): void {
  if (compareVersions(v, MIN_API_VERSION) < 0)
    throw new ApiError(400, `client version ${v} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  if (compareVersions(v, API_VERSION) > 0) throw new ApiError(400, `client version ${v} is too new. Maximum supported API version is ${API_VERSION}`);
}

/** The one place a thrown error becomes an HTTP status: domain kinds map like dockerd's errdefs. */
export function httpStatus(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  if (err instanceof DomainError) return statusOfKind(err.kind);
  return 500;
}

export { sendJson };

/**
 * JSON bodies are specs and configs: far below this. Larger payloads (archives, loads, build
 * contexts) are streamed by their routes and never come through readJson.
 */
export const MAX_JSON_BODY = 16 * 1024 * 1024;

/** Go's http.MaxBytesReader wording, which is what dockerd answers with. */
const tooLarge = (): ApiError => new ApiError(413, `http: request body too large (JSON bodies are limited to ${MAX_JSON_BODY / 1024 / 1024} MiB)`);

async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  // The rest of an oversized body is not read: the connection closes after the answer.
  const refuse = (): ApiError => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
    return tooLarge();
  };
  if (Number(req.headers['content-length'] ?? 0) > MAX_JSON_BODY) throw refuse();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_JSON_BODY) throw refuse();
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`request body is not valid JSON: ${(err as Error).message}`);
  }
}
