import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsunpackPath } from '../unpack.js';

/**
 * Extra link arguments from a `// build: ARGS` first line of a C source (e.g. `-lz`). They go after
 * the source on the command line, where the linker needs libraries.
 */
export function nativeBuildArgs(src: string): string[] {
  const first = readFileSync(src, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^\/\/ build:(.*)$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

/**
 * Builds dist/tsunpack from image/native/tsunpack.c when missing or older than the sources (the .c
 * and the headers beside it), as scripts/build.mjs would.
 */
export function ensureTsunpack(): string {
  const out = tsunpackPath();
  const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
  const src = join(nativeDir, 'tsunpack.c');
  const sources = [src, ...readdirSync(nativeDir).filter((f) => f.endsWith('.h')).map((f) => join(nativeDir, f))];
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return out;
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-static-pie', '-o', tmp, src, ...nativeBuildArgs(src)], { stdio: 'inherit' });
  execFileSync('mv', ['-f', tmp, out]);
  return out;
}
