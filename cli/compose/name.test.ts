import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../../compose-spec/index.js';
import type { GlobalOptions } from './args.js';
import { pollDelay } from './converge.js';
import { quickProjectName } from './name.js';

const opts = (o: Partial<GlobalOptions> = {}): GlobalOptions => ({ files: [], envFiles: [], profiles: [], help: false, ...o });

describe('cli/compose quickProjectName', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tscompose-name-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  // The quick answer must be the full loader's, whenever it gives one.
  const same = (dir: string, o: GlobalOptions, env: Record<string, string | undefined> = {}): string | undefined => {
    const quick = quickProjectName(o, dir, env);
    const full = loadProject({ cwd: dir, environment: env, files: o.files, projectName: o.projectName, projectDirectory: o.projectDirectory, envFiles: o.envFiles.length > 0 ? o.envFiles : undefined });
    if (quick) {
      assert.equal(quick.name, full.project.name);
      for (const w of quick.warnings) assert.ok(full.warnings.includes(w), w);
    }
    return quick?.name;
  };

  it('takes name: from the file, interpolated, the last file winning', () => {
    const dir = join(root, 'Some Dir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'compose.yaml'), 'name: ${P:-first}\nservices: {a: {image: busybox}}\n');
    writeFileSync(join(dir, 'compose.override.yaml'), 'services: {a: {command: ["true"]}}\n');
    assert.equal(same(dir, opts()), 'first');
    assert.equal(same(dir, opts(), { P: 'fromenv' }), 'fromenv');
    writeFileSync(join(dir, 'compose.override.yaml'), 'name: second\n');
    assert.equal(same(dir, opts()), 'second');
  });

  it('falls back to the directory name, and honours .env and COMPOSE_PROJECT_NAME', () => {
    const dir = join(root, 'My_App');
    mkdirSync(dir);
    writeFileSync(join(dir, 'compose.yaml'), 'services: {a: {image: "busybox:${TAG}"}}\n');
    assert.equal(same(dir, opts()), 'my_app');
    assert.deepEqual(quickProjectName(opts(), dir, {})?.warnings, ['The "TAG" variable is not set. Defaulting to a blank string.']);
    writeFileSync(join(dir, '.env'), 'COMPOSE_PROJECT_NAME=dotenv\n');
    assert.equal(same(dir, opts()), 'dotenv');
    assert.equal(same(dir, opts(), { COMPOSE_PROJECT_NAME: 'os' }), 'os');
    assert.equal(same(dir, opts({ projectName: 'flag', files: ['compose.yaml'] })), 'flag');
  });

  it('needs no file with -p alone', () => {
    assert.equal(quickProjectName(opts({ projectName: 'given' }), root, {})?.name, 'given');
    assert.equal(quickProjectName(opts({ projectName: 'Not Valid' }), root, {}), undefined);
  });

  it('leaves to the full load what it does not follow: include, tags, errors, no file', () => {
    writeFileSync(join(root, 'compose.yaml'), 'include: [other.yaml]\nservices: {}\n');
    assert.equal(quickProjectName(opts(), root, {}), undefined);
    writeFileSync(join(root, 'compose.yaml'), 'name: !reset null\nservices: {}\n');
    assert.equal(quickProjectName(opts(), root, {}), undefined);
    writeFileSync(join(root, 'compose.yaml'), 'services: {a: [\n');
    assert.equal(quickProjectName(opts(), root, {}), undefined);
    writeFileSync(join(root, 'compose.yaml'), 'name: Bad Name\nservices: {}\n');
    assert.equal(quickProjectName(opts(), root, {}), undefined);
    rmSync(join(root, 'compose.yaml'));
    assert.equal(quickProjectName(opts(), join(root), {}), undefined);
  });
});

describe('cli/compose pollDelay', () => {
  it('looks often early, less after two seconds', () => {
    assert.equal(pollDelay(0), 20);
    assert.equal(pollDelay(1999), 20);
    assert.equal(pollDelay(2000), 100);
  });
});
