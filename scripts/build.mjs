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
  tscompose: 'cli/tscompose.ts',
  'tsswarm-runtime': 'cli/tsswarm-runtime.ts',
};
const common = {
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
};

// tsswarm's commands, as cli/tsswarm.ts loads them: `import('./commands/NAME.js')`.
const tsswarmSrc = readFileSync(join(root, 'cli/tsswarm.ts'), 'utf8');
const commandModules = [...new Set([...tsswarmSrc.matchAll(/import\('\.\/commands\/([a-z-]+)\.js'\)/g)].map((m) => m[1]))];
// The daemon is the one command that loads dozens of modules at start, most shared with tscompose's
// engine code: it stays in the split build below.
const SPLIT_COMMANDS = new Set(['daemon']);

rmSync(join(dist, 'chunks'), { recursive: true, force: true });
const present = Object.fromEntries(Object.entries(entries).filter(([, src]) => existsSync(join(root, src))));
for (const name of SPLIT_COMMANDS) present[`chunks/tsswarm-${name}`] = `cli/commands/${name}.ts`;
// tscompose, tsswarm-runtime and the daemon: one build with code splitting, so each of their lazily
// imported modules becomes a chunk loaded on first use.
await build({
  ...common,
  entryPoints: Object.fromEntries(Object.entries(present).map(([name, src]) => [name, join(root, src)])),
  outdir: dist,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});

// tsswarm's other commands: one build each, so that what a command needs at once is one file (the
// modules it imports lazily become chunks of their own). One build for all of them would cut the code
// into a chunk per set of commands sharing it, a dozen files per command, and Node's ESM loader costs
// about a millisecond per file: most of what the CLI added to Node's own start (issue 13;
// docs/benchmarks.md). Same depth as the split chunks (dist/chunks/), so import.meta.url lookups of the
// native helpers behave alike.
const standalone = commandModules.filter((m) => !SPLIT_COMMANDS.has(m));
await Promise.all(
  standalone.map((m) =>
    build({
      ...common,
      entryPoints: { [`tsswarm-${m}`]: join(root, `cli/commands/${m}.ts`) },
      outdir: join(dist, 'chunks'),
      splitting: true,
      chunkNames: `tsswarm-${m}-[name]-[hash]`,
    }),
  ),
);

// The entry: the command table only; each `import('./commands/NAME.js')` becomes the file built above.
await build({
  ...common,
  entryPoints: { tsswarm: join(root, 'cli/tsswarm.ts') },
  outdir: dist,
  splitting: false,
  plugins: [
    {
      name: 'tsswarm-commands',
      setup(b) {
        b.onResolve({ filter: /^\.\/commands\/[a-z-]+\.js$/ }, (args) => {
          if (!args.importer.endsWith(join('cli', 'tsswarm.ts')) || args.kind !== 'dynamic-import') return undefined;
          const name = /([a-z-]+)\.js$/.exec(args.path)[1];
          return { path: `./chunks/tsswarm-${name}.js`, external: true };
        });
      },
    },
  ],
});
for (const name of ['tsswarm', ...Object.keys(present).filter((n) => !n.startsWith('chunks/'))]) chmodSync(join(dist, `${name}.js`), 0o755);
process.stdout.write('build ok\n');
