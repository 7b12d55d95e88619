// The pipeline against real files in temporary directories.
import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { loadProject, type LoadOptions } from './load.js';
import { ComposeError } from './errors.js';

describe('loadProject', () => {
  let root: string;
  const write = (rel: string, text: string) => {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    return p;
  };
  const load = (opts: LoadOptions = {}) => loadProject({ cwd: root, environment: {}, home: '/home/u', ...opts });
  const error = (opts: LoadOptions = {}): string => {
    try {
      load(opts);
    } catch (e) {
      if (e instanceof ComposeError) return e.message;
      throw e;
    }
    return assert.fail('expected a ComposeError');
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tscompose-load-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('discovers compose.yaml and its override walking up, names the project after the directory', () => {
    write('My_Proj/compose.yaml', 'services:\n  web: {image: nginx, ports: ["80:80"]}\n');
    write('My_Proj/compose.override.yaml', 'services:\n  web: {ports: ["443:443"]}\n');
    mkdirSync(join(root, 'My_Proj/sub/deeper'), { recursive: true });
    const r = load({ cwd: join(root, 'My_Proj/sub/deeper') });
    assert.equal(r.project.name, 'my_proj');
    assert.equal(r.project.working_dir, join(root, 'My_Proj'));
    assert.deepEqual(r.project.compose_files, [join(root, 'My_Proj/compose.yaml'), join(root, 'My_Proj/compose.override.yaml')]);
    assert.deepEqual(r.project.services.web!.ports.map((p) => p.target), [80, 443]);
  });
  it('prefers compose.yaml over docker-compose.yml and warns about the other', () => {
    write('compose.yaml', 'services:\n  a: {image: x}\n');
    write('docker-compose.yml', 'services:\n  b: {image: x}\n');
    const r = load();
    assert.deepEqual(Object.keys(r.project.services), ['a']);
    assert.match(r.warnings.join('\n'), /Found multiple config files/);
  });
  it('fails clearly when there is no compose file', () => {
    assert.match(error(), /no configuration file provided: not found/);
  });
  it('uses -f files in order, relative paths against the first file\'s directory', () => {
    write('base/one.yaml', 'services:\n  web: {image: a, volumes: ["./data:/data"]}\n');
    write('other/two.yaml', 'services:\n  web: {image: b, env_file: [{path: ./x.env, required: false}]}\n');
    const r = load({ files: ['base/one.yaml', 'other/two.yaml'] });
    assert.equal(r.project.services.web!.image, 'b');
    assert.equal(r.project.services.web!.volumes[0]!.source, join(root, 'base/data'));
  });
  it('COMPOSE_FILE names the files, from the OS or from .env', () => {
    write('x.yaml', 'services:\n  x: {image: x}\n');
    write('y.yaml', 'services:\n  y: {image: y}\n');
    assert.deepEqual(Object.keys(load({ environment: { COMPOSE_FILE: 'x.yaml:y.yaml' } }).project.services), ['x', 'y']);
    write('.env', 'COMPOSE_FILE=y.yaml\n');
    assert.deepEqual(Object.keys(load().project.services), ['y']);
  });
  it('interpolates with the OS environment over .env, and --env-file replaces .env', () => {
    write('compose.yaml', 'services:\n  web: {image: "${IMG}:${TAG:-latest}", environment: {FROM: "${FROM}"}}\n');
    write('.env', 'IMG=fromdotenv\nFROM=dotenv\nTAG=1\n');
    write('other.env', 'IMG=fromother\n');
    assert.equal(load().project.services.web!.image, 'fromdotenv:1');
    assert.equal(load({ environment: { IMG: 'fromos' } }).project.services.web!.image, 'fromos:1');
    const r = load({ envFiles: ['other.env'] });
    assert.equal(r.project.services.web!.image, 'fromother:latest');
    assert.match(r.warnings.join('\n'), /The "FROM" variable is not set/);
    assert.match(error({ envFiles: ['missing.env'] }), /missing\.env: cannot read env file/);
  });
  it('project name: -p, then COMPOSE_PROJECT_NAME, then name:, then the directory', () => {
    write('compose.yaml', 'name: fromfile\nservices:\n  web: {image: x}\n');
    assert.equal(load().project.name, 'fromfile');
    assert.equal(load({ environment: { COMPOSE_PROJECT_NAME: 'fromenv' } }).project.name, 'fromenv');
    assert.equal(load({ projectName: 'fromflag', environment: { COMPOSE_PROJECT_NAME: 'fromenv' } }).project.name, 'fromflag');
    assert.match(error({ projectName: 'Bad Name' }), /invalid project name 'Bad Name'/);
  });
  it('profiles from --profile or COMPOSE_PROFILES', () => {
    write('compose.yaml', 'services:\n  web: {image: x}\n  dbg: {image: x, profiles: [debug]}\n');
    assert.deepEqual(Object.keys(load().project.services), ['web']);
    assert.deepEqual(Object.keys(load({ environment: { COMPOSE_PROFILES: 'debug,other' } }).project.services), ['dbg', 'web']);
    assert.deepEqual(Object.keys(load({ profiles: ['debug'] }).project.services), ['dbg', 'web']);
    assert.deepEqual(load({ services: ['dbg'] }).project.profiles, ['debug']);
  });
  it('merges with !reset and !override across files', () => {
    write('compose.yaml', 'services:\n  web: {image: x, ports: ["80:80"], environment: {A: "1", B: "2"}}\n');
    write('compose.override.yaml', 'services:\n  web:\n    ports: !reset []\n    environment: !override {C: "3"}\n');
    const web = load().project.services.web!;
    assert.deepEqual(web.ports, []);
    assert.deepEqual(web.environment, { C: '3' });
  });
  it('extends from another file resolves that file\'s paths against its own directory', () => {
    write('lib/base.yaml', 'services:\n  base: {image: b, volumes: ["./data:/d"], env_file: [{path: ./base.env}]}\n');
    write('lib/base.env', 'FROM_BASE=1\n');
    write('compose.yaml', 'services:\n  web: {extends: {file: lib/base.yaml, service: base}, environment: {OWN: "1"}}\n');
    const web = load().project.services.web!;
    assert.equal(web.volumes[0]!.source, join(root, 'lib/data'));
    assert.deepEqual(web.environment, { FROM_BASE: '1', OWN: '1' });
  });
  it('include brings in another project\'s resources; redefining one is an error', () => {
    write('inc/compose.yaml', 'services:\n  db: {image: pg, volumes: ["./pgdata:/d"]}\n');
    write('compose.yaml', 'include: [inc/compose.yaml]\nservices:\n  web: {image: x, depends_on: [db]}\n');
    const r = load();
    assert.deepEqual(Object.keys(r.project.services).sort(), ['db', 'web']);
    assert.equal(r.project.services.db!.volumes[0]!.source, join(root, 'inc/pgdata'));
    write('compose.yaml', 'include: [inc/compose.yaml]\nservices:\n  db: {image: other}\n');
    assert.match(error(), /compose\.yaml: services\.db: conflicts with the definition imported by include/);
  });
  it('errors name the file, the key path and the rule', () => {
    write('compose.yaml', 'services:\n  web:\n    image: x\n    ports: ["80:80"]\n');
    write('compose.override.yaml', 'services:\n  web:\n    ports: ["80:80:80"]\n');
    assert.match(error(), /^compose\.override\.yaml: services\.web\.ports\[1\]: '80:80:80' is not a port mapping/);
    write('compose.override.yaml', 'services:\n  web:\n    imagee: y\n');
    assert.equal(error(), "compose.override.yaml: services.web.imagee: additional property 'imagee' is not allowed");
    write('compose.override.yaml', 'services:\n  web:\n    image: ${X:?X is needed}\n');
    assert.equal(error(), 'compose.override.yaml: services.web.image: required variable X is missing a value: X is needed');
    write('compose.override.yaml', 'services:\n  web:\n   image: [\n');
    assert.match(error(), /^compose\.override\.yaml:\d+:\d+: YAML syntax error/);
  });
  it('reports a missing -f file', () => {
    assert.match(error({ files: ['nope.yaml'] }), /nope\.yaml: cannot read compose file: no such file or directory/);
  });
});
