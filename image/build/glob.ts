// Go's path.Match, which COPY/ADD use for wildcard sources: `*` and `?` never cross a `/`, `[a-z]` and
// `[^a-z]` are classes, `\` escapes. Written as a compiler to RegExp so a pattern is checked once.

import { InstructionError } from './errors.js';

export function hasGlobMeta(pattern: string): boolean {
  return /[*?[\\]/u.test(pattern);
}

function escapeRe(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/gu, '\\$&');
}

/** Inside a class only these are special (in unicode mode `\-` is valid there but not outside). */
function escapeClass(ch: string): string {
  return ch.replace(/[\]\\^-]/gu, '\\$&');
}

/** Compiles a path.Match pattern; throws InstructionError for a malformed one (`[a`, trailing `\`). */
export function compileGlob(pattern: string): RegExp {
  const chars = Array.from(pattern);
  let re = '^';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') {
      while (chars[i + 1] === '*') i++;
      re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      const nx = chars[++i];
      if (nx === undefined) throw new InstructionError(`syntax error in pattern ${JSON.stringify(pattern)}: trailing \\`);
      re += escapeRe(nx);
    } else if (ch === '[') {
      let cls = '';
      let j = i + 1;
      if (chars[j] === '^') {
        cls += '^';
        j++;
      }
      let first = true;
      for (;;) {
        let c = chars[j];
        if (c === undefined) throw new InstructionError(`syntax error in pattern ${JSON.stringify(pattern)}: unterminated [`);
        if (c === ']' && !first) break;
        first = false;
        if (c === '\\') {
          j++;
          c = chars[j];
          if (c === undefined) throw new InstructionError(`syntax error in pattern ${JSON.stringify(pattern)}: trailing \\`);
        }
        if (c === '/') throw new InstructionError(`syntax error in pattern ${JSON.stringify(pattern)}: / in a class`);
        cls += escapeClass(c);
        if (chars[j + 1] === '-' && chars[j + 2] !== undefined && chars[j + 2] !== ']') {
          let hi = chars[j + 2] as string;
          j += 2;
          if (hi === '\\') {
            j++;
            hi = chars[j] ?? '';
            if (hi === '') throw new InstructionError(`syntax error in pattern ${JSON.stringify(pattern)}: trailing \\`);
          }
          if (hi < c) throw new InstructionError(`syntax error in pattern ${JSON.stringify(pattern)}: bad range ${c}-${hi}`);
          cls += '-' + escapeClass(hi);
        }
        j++;
      }
      // A negated class still never matches the separator.
      re += cls.startsWith('^') ? `[${cls}/]` : `[${cls}]`;
      i = j;
    } else re += escapeRe(ch);
  }
  return new RegExp(re + '$', 'u');
}

export function globMatch(pattern: string, name: string): boolean {
  return compileGlob(pattern).test(name);
}
