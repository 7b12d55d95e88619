import { strict as assert } from 'node:assert';
import { parseYaml, positionOf } from './yaml.js';
import { ComposeError } from './errors.js';

describe('yaml', () => {
  it('parses to plain values with positions of key paths', () => {
    const p = parseYaml('services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n', 'c.yaml');
    assert.deepEqual(p.value, { services: { web: { image: 'nginx', ports: ['80:80'] } } });
    assert.deepEqual(p.positions.get('services.web.image'), { line: 3, column: 5 });
    assert.deepEqual(p.positions.get('services.web.ports[0]'), { line: 5, column: 9 });
    assert.deepEqual(positionOf(p.positions, ['services', 'web', 'ports', 3]), { line: 4, column: 5 });
  });
  it('reports syntax errors with file:line:column', () => {
    assert.throws(
      () => parseYaml('a: 1\nb: [x\n', 'c.yaml'),
      (e: unknown) => e instanceof ComposeError && /^c\.yaml:\d+:\d+: YAML syntax error/.test(e.message),
    );
    assert.throws(() => parseYaml('a: 1\na: 2\n', 'c.yaml'), /c\.yaml:2:1: YAML syntax error: Map keys must be unique/);
  });
  it('records !reset and !override paths', () => {
    const p = parseYaml('services:\n  web:\n    ports: !reset []\n    environment: !override {A: 1}\n', 'c.yaml');
    assert.deepEqual(p.tags.resets, [['services', 'web', 'ports']]);
    assert.deepEqual(p.tags.overrides, [['services', 'web', 'environment']]);
    assert.deepEqual(p.value, { services: { web: { ports: [], environment: { A: 1 } } } });
  });
  it('expands anchors and << merge keys (own keys win)', () => {
    const p = parseYaml('x: &a {image: i, restart: always}\ns:\n  <<: *a\n  restart: "no"\n', 'c.yaml');
    assert.deepEqual((p.value as Record<string, unknown>).s, { image: 'i', restart: 'no' });
  });
  it('reads 0-prefixed integers as octal, like go-yaml', () => {
    assert.deepEqual(parseYaml('mode: 0440\nq: "0440"\nn: 10\n', 'c.yaml').value, { mode: 0o440, q: '0440', n: 10 });
  });
  it('keeps YAML 1.2 scalars: yes/no and 80:80 are strings', () => {
    assert.deepEqual(parseYaml('a: yes\nb: 80:80\nc: ~\nd: true\n', 'c.yaml').value, { a: 'yes', b: '80:80', c: null, d: true });
  });
  it('keeps __proto__ an ordinary key', () => {
    const v = parseYaml('__proto__: {polluted: 1}\n', 'c.yaml').value as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('yaml: bounds on hostile or huge input', () => {
  it('refuses an alias bomb after bounded work, naming the cause', () => {
    // Each level doubles: 2^30 nodes if expanded.
    let text = 'a0: [x, x]\n';
    for (let i = 1; i <= 30; i++) text += `a${i}: [*a${i - 1}, *a${i - 1}]\n`.replace(/^a/, `a`);
    text = text.replace(/^a(\d+): \[/gm, (_m, n: string) => `a${n}: &a${n} [`);
    const mem0 = process.memoryUsage().rss;
    assert.throws(() => parseYaml(text, 'bomb.yaml'), /bomb\.yaml: .*aliases expand to more than 100000 nodes/);
    // Bounded: far from the hundreds of MB an unbounded expansion takes.
    assert.ok(process.memoryUsage().rss - mem0 < 200 * 1024 * 1024);
  });
  it('refuses deep nesting with a clear error, not a stack overflow', () => {
    const flow = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    assert.throws(() => parseYaml(`x: ${flow}\n`, 'deep.yaml'), /deep\.yaml.*nested/);
    const block = Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n';
    assert.throws(() => parseYaml(block, 'deep2.yaml'), /deep2\.yaml.*nested more than 256 levels/);
  });
  it('still checks duplicate keys per mapping, also in nested and flow maps', () => {
    assert.throws(() => parseYaml('s:\n  a: 1\n  b: 2\n  a: 3\n', 'c.yaml'), /c\.yaml:4:3: YAML syntax error: Map keys must be unique/);
    assert.throws(() => parseYaml('s: {a: 1, a: 2}\n', 'c.yaml'), /Map keys must be unique/);
    // Equal only when the scalar values are: 1 and "1" are different keys, as in the yaml library.
    assert.deepEqual(parseYaml('1: a\n"1b": b\n', 'c.yaml').value, { 1: 'a', '1b': 'b' });
  });
  it('parses a mapping of many keys in time linear in its size (no per-key scan of earlier keys)', () => {
    const keys = 40_000;
    const text = `services:\n${Array.from({ length: keys }, (_, i) => `  s${i}: {image: busybox}\n`).join('')}`;
    const v = parseYaml(text, 'big.yaml').value as { services: Record<string, unknown> };
    assert.equal(Object.keys(v.services).length, keys);
  });
});
