import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, runCli, type TestDaemon } from './helpers/daemon.js';

describe('e2e: daemon lifecycle and CLI connection', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.stop();
  });

  it('reports client and daemon versions', async () => {
    const r = await d.cli(['version', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { Client: { Version: string }; Server: { Version: string; ApiVersion: string } };
    assert.equal(v.Server.Version, v.Client.Version);
    assert.equal(v.Server.ApiVersion, '1.50');
  });

  it('answers info with its own roots', async () => {
    const r = await d.cli(['info', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const i = JSON.parse(r.stdout) as { DockerRootDir: string; ExecRoot: string };
    assert.equal(i.DockerRootDir, join(d.dir, 'data'));
    assert.equal(i.ExecRoot, join(d.dir, 'exec'));
  });

  it('refuses a second daemon on the same socket', async () => {
    const r = await d.cli(['daemon', '--data-root', join(d.dir, 'd2'), '--exec-root', join(d.dir, 'e2'), '--host', d.host]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /another daemon is already listening/);
  });

  it('names the bad flag', async () => {
    const r = await d.cli(['daemon', '--data-root', 'relative']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--data-root: must be an absolute path/);
    const u = await d.cli(['daemon', '--bogus']);
    assert.equal(u.code, 125);
    assert.match(u.stderr, /unknown flag: --bogus/);
  });

  it('without a daemon and without autostart, says how to start one', async () => {
    const other = `unix://${join(d.dir, 'nobody.sock')}`;
    const r = await runCli(['info'], { ...d.env, TSSWARM_HOST: other });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot connect to the tsswarm daemon at .*nobody\.sock.*Start one with: tsswarm daemon/);
  });

  it('removes its socket and pid file on SIGTERM', async () => {
    const sock = d.host.slice('unix://'.length);
    assert.ok(existsSync(sock));
    d.proc.kill('SIGTERM');
    await new Promise((r) => d.proc.once('exit', r));
    assert.ok(!existsSync(sock));
    assert.ok(!existsSync(join(d.dir, 'exec', 'tsswarm.pid')));
  });
});
