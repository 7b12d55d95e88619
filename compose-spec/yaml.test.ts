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
