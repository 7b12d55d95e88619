// The CLIs are clients: they speak the Engine API through api/ (wire types, shared parsers), lib/ and
// compose-spec/, and never load the daemon's internals (agent/, network/, manager/). This walks every
// value import reachable from cli/ (type-only imports are erased at build time, so they may name
// anything) and fails on the first path into those folders.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FORBIDDEN = ['agent/', 'network/', 'manager/'];
// `tsswarm daemon` is the one command that is the daemon: it loads the daemon's root on demand.
const ALLOWED: ReadonlyMap<string, string> = new Map([['cli/commands/daemon.ts', 'node/daemon.ts']]);

function sourcesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourcesUnder(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** Relative specifiers of the imports that survive compilation (static, re-export, dynamic). */
function valueImports(text: string): string[] {
  const out: string[] = [];
  const stmt = /(?:^|[;\n])\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(stmt)) {
    if (m[2]) continue;
    // `import { type A, type B } from` is erased too when every name is type-only.
    const names = /^\{([^}]*)\}$/.exec(m[3]!.trim());
    if (names && names[1]!.split(',').every((n) => n.trim() === '' || /^type\s/.test(n.trim()))) continue;
    out.push(m[4]!);
  }
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out.filter((s) => s.startsWith('.'));
}

function resolveTs(from: string, spec: string): string {
  return resolve(dirname(from), spec.replace(/\.js$/, '.ts'));
}

describe('cli/ imports', () => {
  it('reads value imports and skips type-only ones', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import { type C, type D } from './c.js';",
      "import {\n  e,\n  type F,\n} from './e.js';",
      "export { g } from './g.js';",
      "export type { H } from './h.js';",
      "const m = await import('./m.js');",
      "import 'node:fs';",
    ].join('\n');
    assert.deepEqual(valueImports(text).sort(), ['./a.js', './e.js', './g.js', './m.js']);
  });

  it('never reach agent/, network/ or manager/ from any CLI module', () => {
    const bad: string[] = [];
    const seen = new Set<string>();
    const visit = (file: string, chain: string[]): void => {
      if (seen.has(file)) return;
      seen.add(file);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        bad.push(`${chain.join(' → ')}: cannot read ${relative(root, file)}`);
        return;
      }
      for (const spec of valueImports(text)) {
        const target = resolveTs(file, spec);
        const rel = relative(root, target);
        const from = relative(root, file);
        // `tsswarm daemon` loads the daemon process itself (node/daemon.ts): not walked.
        if (ALLOWED.get(from) === rel) continue;
        if (FORBIDDEN.some((f) => rel.startsWith(f))) {
          bad.push(`${[...chain, from].join(' → ')} imports ${rel}`);
          continue;
        }
        visit(target, [...chain, from]);
      }
    };
    for (const f of sourcesUnder(join(root, 'cli'))) visit(f, []);
    assert.ok(seen.size > 50, `walked only ${seen.size} files: the walk is broken`);
    assert.deepEqual(bad, [], `CLI modules reach daemon internals (move the shared part to api/ or lib/):\n${bad.join('\n')}`);
  });
});
