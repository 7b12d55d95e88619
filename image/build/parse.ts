// Dockerfile lexing as moby/buildkit's frontend/dockerfile/parser does it: parser directives at the top,
// comments, the escape character, line continuations. The result is one raw record per instruction
// (keyword, `--flags`, the rest of the line); instructions.ts gives each keyword its meaning.

import { DockerfileError } from './errors.js';

export type EscapeChar = '\\' | '`';

export interface Directives {
  escape: EscapeChar;
  syntax?: string;
  check?: string;
}

export interface RawInstruction {
  /** Upper-cased keyword (`COPY`). */
  keyword: string;
  /** 1-based line of the keyword, and of the last continuation line. */
  line: number;
  endLine: number;
  /** The instruction with continuations joined, as shown in step output and history. */
  original: string;
  /** Leading `--name[=value]` words with quotes and escapes removed. */
  flags: string[];
  /** What follows the flags, untouched. */
  rest: string;
}

export interface ParsedDockerfile {
  file: string;
  directives: Directives;
  instructions: RawInstruction[];
  warnings: string[];
}

const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const DIRECTIVE_RE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/u;

function trimLeft(s: string): string {
  return s.replace(/^[ \t\v\f\r]+/u, '');
}

function isComment(line: string): boolean {
  return trimLeft(line).startsWith('#');
}

/** Reads the directives at the top of the file; they end at the first line that is not one. */
function readDirectives(lines: readonly string[], file: string): Directives {
  const d: Directives = { escape: '\\' };
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const m = DIRECTIVE_RE.exec(lines[i] as string);
    if (!m) break;
    const key = (m[1] as string).toLowerCase();
    const value = m[2] as string;
    // An unknown directive reads as a comment, and a comment ends the directive block.
    if (!KNOWN_DIRECTIVES.has(key)) break;
    if (seen.has(key)) {
      throw new DockerfileError({ file, line: i + 1 }, undefined, `only one ${key} parser directive can be used`);
    }
    seen.add(key);
    if (key === 'escape') {
      if (value !== '\\' && value !== '`') {
        throw new DockerfileError({ file, line: i + 1 }, undefined, `invalid escape token '${value}' does not match \` or \\`);
      }
      d.escape = value;
    } else if (key === 'syntax') d.syntax = value;
    else d.check = value;
  }
  return d;
}

/** Strips a trailing escape character (plus trailing blanks); reports whether the line ended there. */
function trimContinuation(line: string, escape: EscapeChar): { text: string; ended: boolean } {
  const re = escape === '\\' ? /\\[ \t]*$/u : /`[ \t]*$/u;
  const m = re.exec(line);
  if (!m) return { text: line, ended: true };
  return { text: line.slice(0, m.index), ended: false };
}

/**
 * Splits `--a=b --c REST` into flags and rest. Quotes and backslashes inside flag words are removed
 * (Docker always uses `\` here, whatever the escape directive says); `--` alone ends the flags.
 */
export function extractFlags(line: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && /\s/u.test(line[i] as string)) i++;
    if (!line.startsWith('--', i)) return { flags, rest: line.slice(i) };
    let word = '';
    let blankOk = false;
    let quote = '';
    for (; i < line.length; i++) {
      const ch = line[i] as string;
      if (quote) {
        if (ch === quote) {
          quote = '';
          continue;
        }
        if (ch === '\\' && i + 1 < line.length) {
          i++;
          word += line[i];
          continue;
        }
        if (ch === '\\') continue;
        word += ch;
        continue;
      }
      if (/\s/u.test(ch)) break;
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        continue;
      }
      if (ch === '\\') {
        if (i + 1 < line.length) word += line[++i];
        continue;
      }
      word += ch;
    }
    if (word === '--') return { flags, rest: line.slice(i).replace(/^\s+/u, '') };
    if (blankOk || word.length > 0) flags.push(word);
    if (i >= line.length) return { flags, rest: '' };
  }
}

/** `KEYWORD [--flags] rest` → its parts. */
export function splitInstruction(line: string): { keyword: string; flags: string[]; rest: string } {
  const trimmed = line.trim();
  const m = /^(\S+)(?:\s+([\s\S]*))?$/u.exec(trimmed);
  const keyword = (m?.[1] ?? '').toUpperCase();
  const { flags, rest } = extractFlags(m?.[2] ?? '');
  return { keyword, flags, rest };
}

/** Lexes a Dockerfile into raw instructions. `file` names it in errors (`Dockerfile:3: …`). */
export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  const lines = text.replace(/^\uFEFF/u, '').split(/\r?\n/u);
  const directives = readDirectives(lines, file);
  const { escape } = directives;
  const instructions: RawInstruction[] = [];
  const warnings: string[] = [];

  for (let i = 0; i < lines.length; i++) {
    const first = lines[i] as string;
    const startLine = i + 1;
    if (isComment(first)) continue;
    let { text: joined, ended } = trimContinuation(trimLeft(first), escape);
    if (ended && joined.trim() === '') continue;
    let emptyContinuation = false;
    while (!ended && i + 1 < lines.length) {
      i++;
      const next = lines[i] as string;
      // Comment lines inside a continued instruction are dropped, not joined.
      if (isComment(next)) continue;
      if (trimLeft(next) === '') {
        emptyContinuation = true;
        continue;
      }
      const t = trimContinuation(next, escape);
      joined += t.text;
      ended = t.ended;
    }
    if (joined.trim() === '') continue;
    const { keyword, flags, rest } = splitInstruction(joined);
    if (emptyContinuation) {
      warnings.push(`${file}:${startLine}: ${keyword}: empty continuation line (a future Docker release will reject it)`);
    }
    instructions.push({ keyword, line: startLine, endLine: i + 1, original: joined.trim(), flags, rest });
  }
  if (instructions.length === 0) {
    throw new DockerfileError({ file, line: 0 }, undefined, 'the Dockerfile has no instructions (it needs at least a FROM)');
  }
  return { file, directives, instructions, warnings };
}
