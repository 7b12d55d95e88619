import { InvalidArgumentError } from '../lib/errors.js';
import { isDigest, type Digest } from './digest.js';

/**
 * A normalised image reference, as Docker understands them: "busybox" is
 * docker.io/library/busybox:latest; "localhost:5000/a/b@sha256:…" keeps its registry.
 */
export interface Reference {
  /** Registry host[:port], e.g. "docker.io", "127.0.0.1:5000". */
  readonly domain: string;
  /** Repository path inside the registry, e.g. "library/busybox". */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DOMAIN = 'index.docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN = /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]+)?$/;

export class InvalidReferenceError extends InvalidArgumentError {
  constructor(ref: string, why: string) {
    super(`invalid reference format "${ref}": ${why}`);
    this.name = 'InvalidReferenceError';
  }
}

/**
 * Parses and normalises a reference. With neither tag nor digest the tag defaults to "latest"
 * (pass `defaultTag: false` to keep it absent, e.g. for `images busybox`).
 */
export function parseReference(input: string, opts: { defaultTag?: boolean } = {}): Reference {
  const s = input.trim();
  if (!s) throw new InvalidReferenceError(input, 'empty');
  if (s.length > 4096) throw new InvalidReferenceError(input.slice(0, 40) + '…', 'too long');

  let rest = s;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw new InvalidReferenceError(input, `bad digest "${d}" (expected sha256:<64 hex>)`);
    digest = d;
    rest = rest.slice(0, at);
  }

  // A tag follows the last ':' only when no '/' comes after it (else it is a registry port).
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(input, `bad tag "${tag}"`);
  }

  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.startsWith('[') || first.toLowerCase() !== first) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN.test(domain)) throw new InvalidReferenceError(input, `bad registry host "${domain}"`);
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;

  if (!path) throw new InvalidReferenceError(input, 'missing repository name');
  for (const c of path.split('/')) {
    if (!COMPONENT.test(c)) {
      const hint = c.toLowerCase() !== c ? ' (repository names must be lowercase)' : '';
      throw new InvalidReferenceError(input, `bad name component "${c}"${hint}`);
    }
  }
  if (domain.length + 1 + path.length > 255) throw new InvalidReferenceError(input, 'repository name too long');

  if (tag === undefined && digest === undefined && opts.defaultTag !== false) tag = DEFAULT_TAG;
  const ref: { domain: string; path: string; tag?: string; digest?: Digest } = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** "docker.io/library/busybox" */
export function repositoryName(ref: Pick<Reference, 'domain' | 'path'>): string {
  return `${ref.domain}/${ref.path}`;
}

/** Full canonical form: "docker.io/library/busybox:latest", "h:5000/a@sha256:…". */
export function formatReference(ref: Reference): string {
  let s = repositoryName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The short form Docker prints: "busybox:latest", "me/app:1", "h:5000/a:b". */
export function familiarName(ref: Reference): string {
  let s = familiarRepository(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

export function familiarRepository(ref: Pick<Reference, 'domain' | 'path'>): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  return ref.path.startsWith('library/') && ref.path.indexOf('/', 8) < 0 ? ref.path.slice(8) : ref.path;
}

/** The host actually contacted for a registry domain. */
export function registryEndpointHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? 'registry-1.docker.io' : domain;
}

/** Whether plain http is acceptable without an --insecure-registry entry: loopback only. */
export function isLoopbackHost(domain: string): boolean {
  const host = domain.startsWith('[') ? domain.slice(1, domain.indexOf(']')) : domain.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}
