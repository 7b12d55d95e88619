#!/usr/bin/env node
// `npm run bench -- NAME [args…]` runs bench/NAME/index.ts. Its last stdout line is one JSON object.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...rest] = process.argv.slice(2);
const names = readdirSync(join(root, 'bench')).filter((d) => existsSync(join(root, 'bench', d, 'index.ts')));
if (!name || !names.includes(name)) {
  process.stderr.write(`usage: npm run bench -- NAME\nbenchmarks: ${names.join(', ')}\n`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', name, 'index.ts'), ...rest], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
