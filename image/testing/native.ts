import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsunpackPath } from '../unpack.js';

/** Builds dist/tsunpack from image/native/tsunpack.c when missing or stale (as scripts/build.mjs would). */
export function ensureTsunpack(): string {
  const out = tsunpackPath();
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'tsunpack.c');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return out;
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-static-pie', '-o', tmp, src], { stdio: 'inherit' });
  execFileSync('mv', ['-f', tmp, out]);
  return out;
}
