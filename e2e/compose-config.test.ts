// `tscompose config` end to end: the CLI as a process, on real files.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(repo, 'cli', 'tscompose.ts');

function tscompose(cwd: string, args: string[], env: Record<string, string> = {}) {
  // The source is what is under test (a bundle in dist/ may be stale); tsx is resolved from the
  // repository because the process runs in a temporary directory.
  const cmd = ['--import', pathToFileURL(join(repo, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, source, ...args];
  const r = spawnSync(process.execPath, cmd, { cwd, env: { PATH: process.env.PATH ?? '', HOME: '/home/e2e', ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tscompose config (e2e)', function () {
  let dir: string;
  before(function () {
    if (!existsSync(source)) this.skip();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tscompose-e2e-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the normalised model as YAML and JSON', () => {
    writeFileSync(
      join(dir, 'compose.yaml'),
      'name: shop\nservices:\n  web:\n    image: "nginx:${TAG:-1.27}"\n    ports: ["8080:80"]\n    depends_on: [db]\n  db:\n    image: postgres\n    volumes: [data:/var/lib/postgresql/data]\nvolumes:\n  data: {}\n',
    );
    const y = tscompose(dir, ['config']);
    assert.equal(y.code, 0, y.stderr);
    const model = parse(y.stdout) as Record<string, Record<string, Record<string, unknown>>>;
    assert.equal(model.name as unknown, 'shop');
    assert.equal(model.services!.web!.image, 'nginx:1.27');
    assert.deepEqual(model.services!.web!.ports, [{ mode: 'ingress', protocol: 'tcp', published: '8080', target: 80 }]);
    assert.equal((model.volumes!.data as Record<string, unknown>).name, 'shop_data');
    assert.equal((model.networks!.default as Record<string, unknown>).name, 'shop_default');
    const j = tscompose(dir, ['config', '--format', 'json'], { TAG: '2' });
    assert.equal(j.code, 0, j.stderr);
    assert.equal((JSON.parse(j.stdout) as typeof model).services!.web!.image, 'nginx:2');
  });

  it('--services, --volumes, -f, -p and --profile', () => {
    writeFileSync(join(dir, 'a.yaml'), 'services:\n  web: {image: x}\n  dbg: {image: x, profiles: [debug]}\n');
    writeFileSync(join(dir, 'b.yaml'), 'services:\n  db: {image: y, volumes: [v:/v]}\nvolumes:\n  v:\n');
    assert.equal(tscompose(dir, ['-f', 'a.yaml', '-f', 'b.yaml', 'config', '--services']).stdout, 'db\nweb\n');
    assert.equal(tscompose(dir, ['-f', 'a.yaml', '-f', 'b.yaml', '--profile', 'debug', 'config', '--services']).stdout, 'db\ndbg\nweb\n');
    assert.equal(tscompose(dir, ['--file=b.yaml', 'config', '--volumes']).stdout, 'v\n');
    const named = parse(tscompose(dir, ['-f', 'b.yaml', '-p', 'other', 'config']).stdout) as { volumes: { v: { name: string } } };
    assert.equal(named.volumes.v.name, 'other_v');
  });

  it('fails with the file, key path and rule, before printing anything', () => {
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: x\n    ports: ["80:80", "80:80:80"]\n');
    const r = tscompose(dir, ['config']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^compose\.yaml: services\.web\.ports\[1\]: '80:80:80' is not a port mapping/);
  });

  it('warns on stderr about unsupported keys and unset variables', () => {
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: x$NOPE\n    blkio_config: {weight: 10}\n');
    const r = tscompose(dir, ['config', '-q']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /services\.web\.blkio_config: not supported by tscompose, ignored/);
    assert.match(r.stderr, /The "NOPE" variable is not set/);
  });

  it('rejects unknown commands and flags with usage errors', () => {
    assert.equal(tscompose(dir, ['nope']).code, 1);
    const r = tscompose(dir, ['config', '--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown flag: --bogus/);
  });
});
