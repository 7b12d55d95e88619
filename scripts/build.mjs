#!/usr/bin/env node
// Builds everything that runs: the C helpers (with the system cc) and the bundled CLIs (esbuild).
// Bundling matters for start-up: one file, no module resolution at run time.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, chmodSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

// Native helpers: every <folder>/native/<name>.c becomes dist/<name>. Rebuilt only when older than its sources.
const nativeDirs = ['runtime/native', 'image/native', 'network/native'];
for (const dir of nativeDirs) {
  const abs = join(root, dir);
  if (!existsSync(abs)) continue;
  for (const file of readdirSync(abs)) {
    if (!file.endsWith('.c')) continue;
    const name = file.slice(0, -2);
    const out = join(dist, name);
    const src = join(abs, file);
    const headers = readdirSync(abs).filter((f) => f.endsWith('.h')).map((f) => join(abs, f));
    const newest = Math.max(...[src, ...headers].map((f) => statSync(f).mtimeMs));
    if (existsSync(out) && statSync(out).mtimeMs >= newest) continue;
    // A first line `// build: FLAGS` adds link flags (e.g. `-lz`); libraries must exist as static archives.
    const first = readFileSync(src, 'utf8').split('\n', 1)[0];
    const extra = first.startsWith('// build:') ? first.slice('// build:'.length).trim().split(/\s+/).filter(Boolean) : [];
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-static-pie', '-o', out, src, ...extra], { stdio: 'inherit' });
    process.stdout.write(`built ${out}\n`);
  }
}

const entries = {
  tsswarm: 'cli/tsswarm.ts',
  tscompose: 'cli/tscompose.ts',
  'tsswarm-runtime': 'cli/tsswarm-runtime.ts',
};
// One build with code splitting: each command's module becomes its own chunk, loaded on first use,
// so a CLI pays at start-up only for what the command it runs needs.
rmSync(join(dist, 'chunks'), { recursive: true, force: true });
const present = Object.fromEntries(Object.entries(entries).filter(([, src]) => existsSync(join(root, src))));
await build({
  entryPoints: Object.fromEntries(Object.entries(present).map(([name, src]) => [name, join(root, src)])),
        outdir: dist,
        splitting: true,
        chunkNames: 'chunks/[name]-[hash]',
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        sourcemap: 'linked',
        logLevel: 'warning',
        // esbuild's ESM output has no require(); some CommonJS deps (node-forge, ws) need one.
        banner: {
          js: "#!/usr/bin/env -S node --\nimport { createRequire as __tsswarmCreateRequire } from 'node:module'; const require = __tsswarmCreateRequire(import.meta.url);",
        },
        define: { 'process.env.TSSWARM_BUNDLED': '"1"' },
});
for (const name of Object.keys(present)) chmodSync(join(dist, `${name}.js`), 0o755);
process.stdout.write('build ok\n');
