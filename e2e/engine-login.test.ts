// `tsswarm login` / `logout` end to end: a real daemon, docker-registry behind a proxy that wants HTTP
// Basic auth, and the CLI's credentials in a private TSSWARM_CONFIG dir.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore } from '../image/store.js';
import { CredentialStore } from '../image/registry/credentials.js';
import { pushImage } from '../image/registry/push.js';
import { importBusyboxImage } from '../image/testing/busybox-image.js';
import { basicAuthHook, startProxy, startRegistry, type TestProxy, type TestRegistry } from '../image/testing/registry.js';
import { runCli, startDaemon, type TestDaemon } from './helpers/daemon.js';

type Result = { stdout: string; stderr: string; code: number };

describe('e2e: tsswarm login / logout against a registry with basic auth', function () {
  let work: string;
  let reg: TestRegistry;
  let proxy: TestProxy;
  let d: TestDaemon;
  let cli: (args: string[], input?: string) => Promise<Result>;
  let configFile: string;

  before(async function () {
    work = mkdtempSync('/tmp/tsswarm-login-e2e-');
    reg = await startRegistry();
    // The image goes straight into the registry; only the proxy (the "private" way in) wants a login.
    const src = await ImageStore.open(join(work, 'src'));
    await importBusyboxImage(src);
    await src.tag('busybox', `${reg.host}/private/busybox:1`);
    await pushImage(src, `${reg.host}/private/busybox:1`, { credentials: new CredentialStore(join(work, 'none.json')) });
    proxy = await startProxy(reg.host, { hook: basicAuthHook('alice', 's3cret') });
    d = await startDaemon();
    const env = { ...d.env, TSSWARM_CONFIG: join(work, 'config') };
    configFile = join(work, 'config', 'config.json');
    cli = (args, input) => runCli(args, env, input === undefined ? {} : { input });
  });

  after(async function () {
    await d?.stop();
    await proxy?.stop();
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const image = (): string => `${proxy.host}/private/busybox:1`;

  it('refuses a wrong password with the registry\'s message and stores nothing', async function () {
    const r = await cli(['login', '-u', 'alice', '--password-stdin', proxy.host], 'wrong\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^Error response from daemon: login to ${proxy.host} failed: unauthorized: .*authentication required`));
    assert.doesNotMatch(r.stderr, /try: tsswarm login/);
    assert.equal(existsSync(configFile), false);
  });

  it('checks the flags and the terminal as Docker does', async function () {
    let r = await cli(['login', '--password-stdin', proxy.host], 's3cret\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Must provide --username with --password-stdin/);
    r = await cli(['login', proxy.host]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot perform an interactive login from a non TTY device/);
    r = await cli(['login', '-u', 'alice', '-p', 'x', '--password-stdin', proxy.host]);
    assert.match(r.stderr, /--password and --password-stdin are mutually exclusive/);
  });

  it('pulls a private image only while logged in', async function () {
    let pull = await cli(['pull', image()]);
    assert.equal(pull.code, 1);
    assert.match(pull.stderr, /unauthorized/);

    const r = await cli(['login', '-u', 'alice', '--password-stdin', proxy.host], 's3cret\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    assert.equal(statSync(configFile).mode & 0o777, 0o600);
    const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(cfg.auths[proxy.host]!.auth, 'base64').toString(), 'alice:s3cret');

    pull = await cli(['pull', image()]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Downloaded newer image/);
    assert.equal((await cli(['rmi', image()])).code, 0);

    const out = await cli(['logout', proxy.host]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Removing login credentials for ${proxy.host}\n`);
    assert.equal((await cli(['logout', proxy.host])).stdout, `Not logged in to ${proxy.host}\n`);
    pull = await cli(['pull', image()]);
    assert.equal(pull.code, 1);
    assert.match(pull.stderr, /unauthorized/);
  });

  it('shows the pulled image\'s history', async function () {
    assert.equal((await cli(['login', '-u', 'alice', '-p', 's3cret', proxy.host])).code, 0);
    assert.equal((await cli(['pull', '-q', image()])).code, 0);
    const h = await cli(['image', 'history', '--format', '{{.ID}}|{{.Size}}', image()]);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^[0-9a-f]{12}\|\d/);
  });
});
