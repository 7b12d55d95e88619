// .dockerignore with Docker's semantics (moby/patternmatcher): lines are patterns relative to the context
// root, `*`/`?` stay within one path segment, `**` spans any number, `!` re-includes, the last matching
// pattern wins, and a pattern that matches a directory also excludes everything under it.

import { posix } from 'node:path';
import { InstructionError } from './errors.js';

export interface IgnorePattern {
  /** Cleaned pattern without the `!`. */
  pattern: string;
  exclusion: boolean;
  re: RegExp;
  /** Segments of the pattern, to decide whether an excluded dir can hold re-included files. */
  segments: string[];
}

/** Reads .dockerignore text into patterns, as the Docker CLI does before sending the context. */
export function readDockerignore(text: string): string[] {
  const out: string[] = [];
  for (const rawLine of text.replace(/^\uFEFF/u, '').split(/\r?\n/u)) {
    // Only a `#` in column one starts a comment; ` #x` is a pattern.
    if (rawLine.startsWith('#')) continue;
    let p = rawLine.trim();
    if (p === '') continue;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = posix.normalize(p);
      if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
      if (p.length > 1 && p.startsWith('/')) p = p.replace(/^\/+/u, '');
    }
    out.push(invert ? `!${p}` : p);
  }
  return out;
}

function escapeRe(ch: string): string {
  return ch.replace(/[.+()|{}$^]/gu, '\\$&');
}

/** One pattern as a RegExp anchored at both ends, over `/`-separated relative paths. */
function compile(pattern: string): RegExp {
  const chars = Array.from(pattern);
  let re = '^';
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (inClass && ch !== ']' && ch !== '\\') {
      re += ch;
      continue;
    }
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        // `**/` is the same as `**`: eat the separator.
        if (chars[i + 1] === '/') i++;
        if (i + 1 >= chars.length) re += '.*';
        else re += '(.*/)?';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      const nx = chars[i + 1];
      if (nx === undefined) re += '\\\\';
      else {
        re += /[\w]/u.test(nx) ? nx : `\\${nx}`;
        i++;
      }
    } else if (ch === '[' || ch === ']') {
      inClass = ch === '[';
      re += ch;
    }
    else re += escapeRe(ch);
  }
  try {
    return new RegExp(re + '$', 's');
  } catch (err) {
    throw new InstructionError(`invalid .dockerignore pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

export class IgnoreMatcher {
  readonly patterns: IgnorePattern[];
  readonly hasExclusions: boolean;

  constructor(lines: readonly string[]) {
    this.patterns = [];
    for (const line of lines) {
      let p = line.trim();
      if (p === '') continue;
      const exclusion = p.startsWith('!');
      if (exclusion) {
        p = p.slice(1);
        if (p === '') throw new InstructionError('illegal exclusion pattern: "!"');
      }
      p = posix.normalize(p);
      if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
      this.patterns.push({ pattern: p, exclusion, re: compile(p), segments: p.split('/') });
    }
    this.hasExclusions = this.patterns.some((p) => p.exclusion);
  }

  /**
   * Whether `path` (relative, `/`-separated) is ignored: the last pattern matching the path or one of
   * its parent dirs decides.
   */
  ignores(path: string): boolean {
    const file = posix.normalize(path);
    const parent = posix.dirname(file);
    const parentParts = parent === '.' ? [] : parent.split('/');
    let matched = false;
    for (const p of this.patterns) {
      // An include can only flip an unmatched path, an exclusion only a matched one.
      if (p.exclusion !== matched) continue;
      let m = p.re.test(file);
      for (let i = 0; !m && i < parentParts.length; i++) {
        m = p.re.test(parentParts.slice(0, i + 1).join('/'));
      }
      if (m) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * Whether an ignored directory must still be walked because a `!` pattern might re-include something
   * under it (the same test the Docker CLI makes before skipping a directory).
   */
  mayReinclude(dir: string): boolean {
    if (!this.hasExclusions) return false;
    const dirSegs = posix.normalize(dir).split('/');
    for (const p of this.patterns) {
      if (!p.exclusion) continue;
      if (p.pattern.includes('**')) return true;
      // The exclusion can reach into dir if its leading segments could match dir's segments.
      if (p.segments.length <= dirSegs.length) {
        // Still might if the pattern itself names something at or above dir.
        const sub = dirSegs.slice(0, p.segments.length).join('/');
        if (compile(p.pattern).test(sub)) return true;
        continue;
      }
      const prefix = p.segments.slice(0, dirSegs.length).join('/');
      if (compile(prefix).test(dirSegs.join('/'))) return true;
    }
    return false;
  }
}
