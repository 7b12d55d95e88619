// Container identity: 64-hex IDs, 12-char short IDs, random `adjective_surname` names, name rules, and
// the index that resolves what a user typed (full ID, name, or unique ID prefix) to one object.
import { randomBytes, randomInt } from 'node:crypto';
import { conflict, invalid, notFound, type NotFoundError } from '../../lib/errors.js';

export function newId(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(32).toString('hex');
    // An all-digit ID would read as a number in some tools (Docker avoids it for the same reason).
    if (!/^\d+$/.test(id.slice(0, 12))) return id;
  }
}

export const shortId = (id: string): string => id.slice(0, 12);

export const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Checks a user-chosen name; returns it without a leading "/". */
export function validateName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw invalid(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name.slice(1) : name;
}

// Our own short lists (not Docker's): adjectives and the surnames of people from computing and science.
export const ADJECTIVES: readonly string[] = [
  'agile', 'amber', 'ardent', 'bold', 'brave', 'bright', 'brisk', 'calm', 'candid', 'cheerful',
  'clever', 'cosmic', 'crisp', 'daring', 'deft', 'eager', 'earnest', 'fearless', 'festive', 'fluent',
  'gentle', 'gleaming', 'golden', 'hardy', 'hearty', 'humble', 'jolly', 'keen', 'kind', 'lively',
  'lucid', 'merry', 'mellow', 'nimble', 'noble', 'patient', 'plucky', 'polite', 'proud', 'quiet',
  'rapid', 'serene', 'sharp', 'steady', 'sunny', 'swift', 'tidy', 'upbeat', 'vivid', 'witty',
];

export const SURNAMES: readonly string[] = [
  'agnesi', 'babbage', 'backus', 'bardeen', 'bernoulli', 'boole', 'cantor', 'cerf', 'codd', 'conway',
  'curie', 'dijkstra', 'engelbart', 'euler', 'faraday', 'fermat', 'feynman', 'gauss', 'goldberg', 'hamilton',
  'hilbert', 'hopper', 'huffman', 'kahan', 'kay', 'knuth', 'lamport', 'liskov', 'lovelace', 'maxwell',
  'mccarthy', 'meitner', 'minsky', 'napier', 'neumann', 'noether', 'pascal', 'perlman', 'ramanujan', 'ritchie',
  'shannon', 'sutherland', 'tarjan', 'thompson', 'torvalds', 'turing', 'wirth', 'wozniak', 'yonath', 'zuse',
];

/**
 * A random `adjective_surname` not in use. Like Docker, after a clash it appends a digit, so a
 * crowded host still gets a name quickly.
 */
export function randomName(taken: (name: string) => boolean, pick: (n: number) => number = (n) => randomInt(n)): string {
  for (let retry = 0; retry < 1000; retry++) {
    let name = `${ADJECTIVES[pick(ADJECTIVES.length)]}_${SURNAMES[pick(SURNAMES.length)]}`;
    if (retry > 0) name += String(pick(10));
    if (!taken(name)) return name;
  }
  throw new Error('could not find a free random container name after 1000 tries; choose one with --name');
}

/**
 * Resolves references to objects the way Docker does: exact full ID, then exact name (with or without
 * a leading "/"), then a unique ID prefix. `noun` shapes the errors ("container" → "No such container: x").
 */
export class NameIndex {
  private readonly byId = new Map<string, string>();
  private readonly byName = new Map<string, string>();

  constructor(private readonly noun: string = 'container') {}

  get size(): number {
    return this.byId.size;
  }

  /** Registers an object; throws 409 Conflict if the name is taken by another ID. */
  add(id: string, name: string): void {
    const n = stripSlash(name);
    const holder = this.byName.get(n);
    if (holder !== undefined && holder !== id) {
      throw conflict(
        `Conflict. The ${this.noun} name "/${n}" is already in use by ${this.noun} "${holder}". You have to remove (or rename) that ${this.noun} to be able to reuse that name.`,
      );
    }
    const old = this.byId.get(id);
    if (old !== undefined && old !== n) this.byName.delete(old);
    this.byId.set(id, n);
    this.byName.set(n, id);
  }

  rename(id: string, newName: string): void {
    if (!this.byId.has(id)) throw this.missing(id);
    this.add(id, newName);
  }

  remove(id: string): void {
    const n = this.byId.get(id);
    if (n === undefined) return;
    this.byId.delete(id);
    this.byName.delete(n);
  }

  nameOf(id: string): string | undefined {
    return this.byId.get(id);
  }

  hasName(name: string): boolean {
    return this.byName.has(stripSlash(name));
  }

  /** Returns the full ID for `ref`, or throws 404 `No such container: ref` / 400 for an ambiguous prefix. */
  resolve(ref: string): string {
    const id = this.tryResolve(ref);
    if (id === undefined) throw this.missing(ref);
    return id;
  }

  tryResolve(ref: string): string | undefined {
    if (ref === '') return undefined;
    if (this.byId.has(ref)) return ref;
    const byName = this.byName.get(stripSlash(ref));
    if (byName !== undefined) return byName;
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    let found: string | undefined;
    for (const id of this.byId.keys()) {
      if (!id.startsWith(ref)) continue;
      if (found !== undefined) {
        throw invalid(`multiple IDs found with provided prefix: ${ref} (use more characters of the ID, or the name)`);
      }
      found = id;
    }
    return found;
  }

  private missing(ref: string): NotFoundError {
    return notFound(`No such ${this.noun}: ${ref}`);
  }
}

function stripSlash(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}
