import { strict as assert } from 'node:assert';
import { resolveExtends, ExtendsError, type SourceFile } from './extends.js';
import { parseYaml } from './yaml.js';
import type { Dict } from './util.js';

function file(path: string, text: string): SourceFile {
  const p = parseYaml(text, path);
  return { path, value: p.value as Dict, tags: p.tags };
}

describe('extends', () => {
  it('resolves in the same file, transitively, with the merge rules', () => {
    const f = file('/p/c.yaml', 'services:\n  a: {image: x, environment: {A: "1"}, ports: ["80"]}\n  b: {extends: a, environment: {B: "2"}}\n  c: {extends: {service: b}, ports: ["81"], command: run}\n');
    const s = resolveExtends(f, () => assert.fail('no other file'));
    assert.deepEqual(s.c, { image: 'x', environment: { A: '1', B: '2' }, ports: ['80', '81'], command: 'run' });
    assert.equal((s.b as Dict).extends, undefined);
  });
  it('loads another file, relative to the extending one', () => {
    const f = file('/p/c.yaml', 'services:\n  web: {extends: {file: lib/base.yaml, service: base}, image: mine}\n');
    const seen: string[] = [];
    const s = resolveExtends(f, (p) => {
      seen.push(p);
      return file(p, 'services:\n  base: {image: theirs, user: nobody}\n');
    });
    assert.deepEqual(seen, ['/p/lib/base.yaml']);
    assert.deepEqual(s.web, { image: 'mine', user: 'nobody' });
  });
  it('honours !reset and !override of the extending service', () => {
    const f = file('/p/c.yaml', 'services:\n  a: {image: x, ports: ["80"], environment: {A: "1"}}\n  b:\n    extends: a\n    ports: !reset []\n    environment: !override {B: "2"}\n');
    assert.deepEqual(resolveExtends(f, () => assert.fail()).b, { image: 'x', environment: { B: '2' } });
  });
  it('names cycles and missing services', () => {
    const cyc = file('/p/c.yaml', 'services:\n  a: {extends: b}\n  b: {extends: c}\n  c: {extends: a}\n');
    assert.throws(() => resolveExtends(cyc, () => assert.fail()), (e: unknown) => e instanceof ExtendsError && /extends cycle: a -> b -> c -> a/.test(e.message));
    const missing = file('/p/c.yaml', 'services:\n  a: {extends: nope}\n');
    assert.throws(() => resolveExtends(missing, () => assert.fail()), /service 'nope' not found/);
  });
});
