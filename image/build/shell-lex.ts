// Variable substitution and quote removal as the Dockerfile frontend does it (moby/buildkit
// frontend/dockerfile/shell/lex.go), for the instructions Docker expands itself (ENV, COPY, WORKDIR, …).
// RUN/CMD/ENTRYPOINT are left to the shell in the container, so they never come through here.

import { InstructionError } from './errors.js';

export type EnvLookup = (name: string) => string | undefined;

export interface LexResult {
  value: string;
  /** Variable names the word referred to, set or not: build args count as used when named here. */
  used: Set<string>;
}

export interface WordsResult {
  words: string[];
  used: Set<string>;
}

const EOF = '';

/** `$@ $* $# $? $- $$ $! $0`: accepted like the shell, and never set during a build. */
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

function isSpace(ch: string): boolean {
  return /^\s$/u.test(ch);
}

function isNameChar(ch: string): boolean {
  return /^[\p{L}\p{N}_]$/u.test(ch);
}

function isDigit(ch: string): boolean {
  return ch >= '0' && ch <= '9';
}

/** Accumulates words for processWords: unquoted whitespace (also from an expansion) separates words. */
class Words {
  private word = '';
  private inWord = false;
  private readonly words: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
      return;
    }
    this.addRawChar(ch);
  }

  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) this.words.push(this.word);
    this.word = '';
    this.inWord = false;
    return this.words;
  }
}

class ShellWord {
  private readonly chars: string[];
  private pos = 0;
  readonly used = new Set<string>();

  constructor(
    input: string,
    private readonly env: EnvLookup,
    private readonly escape: string,
  ) {
    this.chars = Array.from(input);
  }

  private peek(): string {
    return this.pos < this.chars.length ? (this.chars[this.pos] as string) : EOF;
  }

  private next(): string {
    return this.pos < this.chars.length ? (this.chars[this.pos++] as string) : EOF;
  }

  private lookup(name: string): string | undefined {
    this.used.add(name);
    return this.env(name);
  }

  process(): { value: string; words: string[] } {
    return this.processStopOn(EOF, false);
  }

  private processStopOn(stop: string, rawEscapes: boolean): { value: string; words: string[] } {
    let result = '';
    const words = new Words();
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return { value: result, words: words.finish() };
      }
      if (ch === "'" || ch === '"' || ch === '$') {
        const s = ch === "'" ? this.singleQuote() : ch === '"' ? this.doubleQuote() : this.dollar();
        result += s;
        if (ch === '$') words.addString(s);
        else words.addRawString(s);
        continue;
      }
      let c = this.next();
      if (c === this.escape) {
        if (rawEscapes) {
          words.addRawChar(c);
          result += c;
        }
        c = this.next();
        // An escape at the very end of a word is dropped, like the shell does.
        if (c === EOF) break;
        words.addRawChar(c);
      } else {
        words.addChar(c);
      }
      result += c;
    }
    if (stop !== EOF) {
      throw new InstructionError(`unexpected end of statement while looking for matching ${stop}`);
    }
    return { value: result, words: words.finish() };
  }

  private singleQuote(): string {
    // Everything up to the next ' is literal; no escapes, no variables.
    this.next();
    let result = '';
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new InstructionError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return result;
      result += ch;
    }
  }

  private doubleQuote(): string {
    this.next();
    let result = '';
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) throw new InstructionError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        return result;
      }
      if (ch === '$') {
        result += this.dollar();
        continue;
      }
      let c = this.next();
      if (c === this.escape) {
        const after = this.peek();
        if (after === EOF) continue;
        // Only these can be escaped inside double quotes; any other escape char stays as typed.
        if (after === '"' || after === '$' || after === this.escape) c = this.next();
      }
      result += c;
    }
  }

  private name(): string {
    let name = '';
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) return name;
      if (name === '' && isDigit(ch)) {
        while (isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.has(ch)) return this.next();
      if (!isNameChar(ch)) return name;
      name += this.next();
    }
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      return this.lookup(name) ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new InstructionError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new InstructionError('syntax error: bad substitution');
    const name = this.name();
    let op = this.next();
    if (op === '}') return this.lookup(name) ?? '';
    if (op === EOF) throw new InstructionError("syntax error: missing '}'");
    let nullIsUnset = false;
    if (op === ':') {
      nullIsUnset = true;
      op = this.next();
    }
    const modifier = (nullIsUnset ? ':' : '') + op;
    if (op === '-' || op === '+' || op === '?' || op === '#' || op === '%') {
      const word = this.stopOnBrace(op === '#' || op === '%');
      const value = this.lookup(name);
      const unset = value === undefined || (nullIsUnset && value === '');
      switch (op) {
        case '-':
          return unset ? word : (value as string);
        case '+':
          return unset ? '' : word;
        case '?':
          if (value === undefined) throw new InstructionError(`${name}: ${word || 'is not allowed to be unset'}`);
          if (nullIsUnset && value === '') throw new InstructionError(`${name}: ${word || 'is not allowed to be empty'}`);
          return value;
        default: {
          const greedy = word.startsWith(op);
          const pattern = greedy ? word.slice(1) : word;
          return op === '#' ? trimPrefix(pattern, value ?? '', greedy) : trimSuffix(pattern, value ?? '', greedy);
        }
      }
    }
    if (op === '/' && !nullIsUnset) {
      const all = this.peek() === '/';
      if (all) this.next();
      const pattern = this.stopOn('/', true);
      const replacement = this.stopOnBrace(true);
      const value = this.lookup(name) ?? '';
      if (pattern === '') return value;
      const re = new RegExp(shellPatternToRegex(pattern, true), all ? 'gu' : 'u');
      return value.replace(re, () => replacement);
    }
    throw new InstructionError(`unsupported modifier (${modifier}) in substitution`);
  }

  private stopOnBrace(rawEscapes: boolean): string {
    return this.stopOn('}', rawEscapes);
  }

  private stopOn(stop: string, rawEscapes: boolean): string {
    try {
      return this.processStopOn(stop, rawEscapes).value;
    } catch (err) {
      if (this.peek() === EOF && err instanceof InstructionError && err.message.startsWith('unexpected end')) {
        throw new InstructionError("syntax error: missing '}'");
      }
      throw err;
    }
  }
}

/** A shell pattern (`*`, `?`, `\x`) as a regular expression source; `[` is literal, as in Docker. */
export function shellPatternToRegex(pattern: string, greedy: boolean): string {
  const chars = Array.from(pattern);
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') out += greedy ? '[\\s\\S]*' : '[\\s\\S]*?';
    else if (ch === '?') out += '[\\s\\S]';
    else if (ch === '\\') {
      const nx = chars[i + 1];
      if (nx === '}' || nx === '/') continue;
      if (nx !== '*' && nx !== '?' && nx !== '\\') throw new InstructionError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${nx ?? ''}'`);
      out += '\\' + nx;
      i++;
    } else out += ch.replace(/[.*+?^${}()|[\]\\/]/gu, '\\$&');
  }
  return out;
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const re = new RegExp(`^(?:${shellPatternToRegex(pattern, true)})$`, 'u');
  const chars = Array.from(value);
  if (greedy) {
    for (let n = chars.length; n >= 0; n--) if (re.test(chars.slice(0, n).join(''))) return chars.slice(n).join('');
  } else {
    for (let n = 0; n <= chars.length; n++) if (re.test(chars.slice(0, n).join(''))) return chars.slice(n).join('');
  }
  return value;
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const re = new RegExp(`^(?:${shellPatternToRegex(pattern, true)})$`, 'u');
  const chars = Array.from(value);
  if (greedy) {
    for (let n = 0; n <= chars.length; n++) if (re.test(chars.slice(n).join(''))) return chars.slice(0, n).join('');
  } else {
    for (let n = chars.length; n >= 0; n--) if (re.test(chars.slice(n).join(''))) return chars.slice(0, n).join('');
  }
  return value;
}

/** Expands variables and removes quotes in one word; whitespace stays as it is. */
export function processWord(word: string, env: EnvLookup, escape = '\\'): LexResult {
  const sw = new ShellWord(word, env, escape);
  const { value } = sw.process();
  return { value, used: sw.used };
}

/** Like processWord, then splits on unquoted whitespace (including whitespace a variable expanded to). */
export function processWords(word: string, env: EnvLookup, escape = '\\'): WordsResult {
  const sw = new ShellWord(word, env, escape);
  const { words } = sw.process();
  return { words, used: sw.used };
}

/** An EnvLookup over `KEY=value` strings; the last occurrence wins, as in a process environment. */
export function envLookup(env: readonly string[]): EnvLookup {
  const map = new Map<string, string>();
  for (const kv of env) {
    const i = kv.indexOf('=');
    if (i < 0) map.set(kv, '');
    else map.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return (name) => map.get(name);
}
