// Docker's own CLI (docker 28.x) drives our daemon unchanged: version negotiation, run/ps/logs/exec
// (-i, -it)/inspect/stop/rm, networks, volumes, the legacy builder, save/load, cp, events, system df,
// names with slashes. Every command's stderr must be free of error lines.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { useBusyboxDaemon } from './helpers/busybox.js';
import { dockerEnv, errorLines, hasBinary, runClient, runOnPty, type ClientResult } from './helpers/docker-client.js';

const HAVE_DOCKER = hasBinary('docker');

describe('e2e: the docker CLI against tsswarm', function () {
  this.timeout(180_000);
  if (!HAVE_DOCKER) {
    before(function () {
      console.log('    skipped: no `docker` CLI on PATH (install docker-ce-cli to run these)');
      this.skip();
    });
    it('needs the docker CLI');
    return;
  }
  const b = useBusyboxDaemon('/tmp/tsswarm-dockercli-');
  const docker = async (args: string[], input?: string): Promise<ClientResult> => {
    const r = await runClient('docker', args, dockerEnv(b.d), input !== undefined ? { input } : {});
    assert.deepEqual(errorLines(r.stderr), [], `docker ${args.join(' ')}: error lines on stderr:\n${r.stderr}`);
    return r;
  };
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await docker(args, input);
    assert.equal(r.code, 0, `docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  it('negotiates the daemon API version', async () => {
    const v = JSON.parse(await ok(['version', '--format', '{{json .}}'])) as { Client: { ApiVersion: string }; Server: { ApiVersion: string; MinAPIVersion: string } };
    assert.equal(v.Server.ApiVersion, '1.50');
    assert.equal(v.Server.MinAPIVersion, '1.24');
    assert.equal(v.Client.ApiVersion, '1.50');
  });

  it('runs with --rm without a removal error and leaves no container', async () => {
    assert.equal(await ok(['run', '--rm', '--name', 'dc-rm', 'busybox', 'echo', 'hi']), 'hi\n');
    assert.doesNotMatch(await ok(['ps', '-a', '--format', '{{.Names}}']), /dc-rm/);
  });

  it('runs -d, lists, logs, inspects (with Docker fields), execs, stops and removes', async () => {
    for (let i = 0; i < 3; i++) await ok(['run', '-d', '--name', `dc-d${i}`, 'busybox', 'sh', '-c', `echo out-${i}; sleep 1000`]);
    const ps = await ok(['ps', '--format', '{{.Names}} {{.Status}}']);
    for (let i = 0; i < 3; i++) assert.match(ps, new RegExp(`dc-d${i} Up`));
    let logs = '';
    for (let i = 0; i < 100 && !logs.includes('out-0'); i++) logs = await ok(['logs', 'dc-d0']);
    assert.equal(logs, 'out-0\n');
    const insp = JSON.parse(await ok(['inspect', 'dc-d0']))[0] as { LogPath: string; ResolvConfPath: string; HostsPath: string; GraphDriver: { Name: string; Data: Record<string, string> } };
    assert.match(insp.LogPath, /-json\.log$/);
    assert.match(insp.ResolvConfPath, /resolv\.conf$/);
    assert.match(insp.HostsPath, /hosts$/);
    assert.equal(insp.GraphDriver.Name, 'overlay2');
    assert.ok(insp.GraphDriver.Data.MergedDir && insp.GraphDriver.Data.UpperDir);
    assert.equal(await ok(['exec', 'dc-d0', 'echo', 'exec-out']), 'exec-out\n');
    assert.equal(await ok(['exec', '-i', 'dc-d0', 'cat'], 'piped\n'), 'piped\n');
    // One of several tags of an image in use is only untagged; its last one is refused.
    await ok(['tag', 'busybox', 'team/extra:1']);
    assert.match(await ok(['rmi', 'team/extra:1']), /Untagged: team\/extra:1/);
    const last = await runClient('docker', ['rmi', 'busybox'], dockerEnv(b.d));
    assert.equal(last.code, 1);
    assert.match(last.stderr, /must force/);
    for (let i = 0; i < 3; i++) assert.equal(await ok(['stop', '-t', '1', `dc-d${i}`]), `dc-d${i}\n`);
    for (let i = 0; i < 3; i++) assert.equal(await ok(['rm', `dc-d${i}`]), `dc-d${i}\n`);
  });

  it('feeds piped stdin to run -i and exits at its end', async () => {
    assert.equal(await ok(['run', '--rm', '-i', 'busybox', 'cat'], 'x\n'), 'x\n');
    assert.equal(await ok(['run', '-i', '--name', 'dc-i', 'busybox', 'cat'], 'y\n'), 'y\n');
    await ok(['rm', 'dc-i']);
  });

  it('takes typed input in exec -it on a terminal', async () => {
    await ok(['run', '-d', '--name', 'dc-tty', 'busybox', 'sleep', '1000']);
    const r = await runOnPty(['docker', 'exec', '-it', 'dc-tty', 'sh'], dockerEnv(b.d), '# ', 'echo typed-$((40+2))\rexit\r');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /typed-42/);
    assert.deepEqual(errorLines(r.stdout), []);
    await ok(['rm', '-f', 'dc-tty']);
  });

  it('creates, lists and removes networks and volumes', async () => {
    await ok(['network', 'create', 'dcnet']);
    assert.match(await ok(['network', 'ls', '--format', '{{.Name}}']), /^dcnet$/m);
    await ok(['run', '--rm', '--network', 'dcnet', 'busybox', 'true']);
    assert.equal(await ok(['network', 'rm', 'dcnet']), 'dcnet\n');
    assert.equal(await ok(['volume', 'create', 'dcvol']), 'dcvol\n');
    await ok(['run', '--rm', '-v', 'dcvol:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
    assert.equal(await ok(['run', '--rm', '-v', 'dcvol:/data', 'busybox', 'cat', '/data/f']), 'kept\n');
    assert.match(await ok(['volume', 'ls', '--format', '{{.Name}}']), /^dcvol$/m);
    assert.equal(await ok(['volume', 'rm', 'dcvol']), 'dcvol\n');
  });

  it('builds with the legacy builder, and handles names with a slash (inspect, history, tag, save, load, rmi)', async () => {
    const ctx = join(b.work, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo built > /b\nCMD ["cat", "/b"]\n');
    const built = await ok(['build', '-t', 'team/t1:v4', ctx]);
    assert.match(built, /Successfully tagged team\/t1:v4/);
    assert.equal(await ok(['run', '--rm', 'team/t1:v4']), 'built\n');
    const id = (await ok(['image', 'inspect', 'team/t1:v4', '--format', '{{.Id}}'])).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.match(await ok(['image', 'history', 'team/t1:v4']), /RUN|echo built/);
    await ok(['tag', 'team/t1:v4', 'localhost:5000/ns/app:tag']);
    assert.equal((await ok(['image', 'inspect', 'localhost:5000/ns/app:tag', '--format', '{{.Id}}'])).trim(), id);
    const tar = join(b.work, 'saved.tar');
    await ok(['save', '-o', tar, 'team/t1:v4']);
    assert.match(await ok(['rmi', 'localhost:5000/ns/app:tag']), /Untagged: localhost:5000\/ns\/app:tag/);
    assert.match(await ok(['rmi', 'team/t1:v4']), /Untagged: team\/t1:v4/);
    assert.match(await ok(['load', '-i', tar]), /Loaded image: team\/t1:v4/);
    assert.equal((await ok(['image', 'inspect', 'team/t1:v4', '--format', '{{.Id}}'])).trim(), id);
  });

  it('says a missing image in Docker words', async () => {
    const r = await runClient('docker', ['image', 'inspect', 'team/nosuch:1'], dockerEnv(b.d));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such image: team\/nosuch:1/);
    assert.doesNotMatch(r.stderr, /tsswarm pull/);
  });

  it('copies files in and out with cp', async () => {
    await ok(['run', '-d', '--name', 'dc-cp', 'busybox', 'sleep', '1000']);
    const src = join(b.work, 'in.txt');
    writeFileSync(src, 'copied\n');
    await ok(['cp', src, 'dc-cp:/in.txt']);
    assert.equal(await ok(['exec', 'dc-cp', 'cat', '/in.txt']), 'copied\n');
    const back = join(b.work, 'back.txt');
    await ok(['cp', 'dc-cp:/in.txt', back]);
    assert.equal(readFileSync(back, 'utf8'), 'copied\n');
    await ok(['rm', '-f', 'dc-cp']);
  });

  it('reports events and disk usage', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await ok(['run', '--rm', '--name', 'dc-ev', 'busybox', 'true']);
    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await ok(['events', '--since', String(since), '--until', String(until), '--filter', 'container=dc-ev', '--format', '{{.Action}}']);
    for (const a of ['create', 'start', 'die', 'destroy']) assert.match(ev, new RegExp(`^${a}$`, 'm'));
    const df = await ok(['system', 'df']);
    assert.match(df, /^Images\s+\d+/m);
    assert.match(df, /^Containers\s+\d+/m);
    assert.match(df, /^Local Volumes\s+\d+/m);
  });
});

describe('e2e: our CLI, the same checks for the features it has', function () {
  this.timeout(120_000);
  const b = useBusyboxDaemon('/tmp/tsswarm-owncli-');
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await b.cli(args, input !== undefined ? { input } : {});
    assert.equal(r.code, 0, `tsswarm ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    assert.deepEqual(errorLines(r.stderr), [], `tsswarm ${args.join(' ')}: error lines on stderr:\n${r.stderr}`);
    return r.stdout;
  };

  const http = (method: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ socketPath: b.d.host.replace(/^unix:\/\//, ''), path, method }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.once('error', reject);
      req.end();
    });

  it('answers /_ping with Docker headers and refuses versions out of range in Docker words', async () => {
    for (const m of ['GET', 'HEAD']) {
      const r = await http(m, '/_ping');
      assert.equal(r.status, 200);
      assert.equal(r.headers['api-version'], '1.50');
      assert.equal(r.headers['builder-version'], '1');
      assert.equal(r.headers['ostype'], 'linux');
      assert.equal(r.headers['docker-experimental'], 'false');
      assert.equal(r.headers['pragma'], 'no-cache');
      assert.match(String(r.headers['cache-control']), /no-cache/);
    }
    assert.equal((await http('GET', '/v1.24/version')).status, 200);
    const old = await http('GET', '/v1.12/version');
    assert.equal(old.status, 400);
    assert.equal(JSON.parse(old.body).message, 'client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version');
    const tooNew = await http('GET', '/v1.51/version');
    assert.equal(JSON.parse(tooNew.body).message, 'client version 1.51 is too new. Maximum supported API version is 1.50');
    const bk = await http('POST', '/v1.50/build?version=2');
    assert.equal(bk.status, 400);
    assert.match(JSON.parse(bk.body).message, /BuildKit is not supported/);
  });

  it('pipes stdin to exec -i and run -i', async () => {
    await ok(['run', '-d', '--name', 'oc-x', 'busybox', 'sleep', '1000']);
    assert.equal(await ok(['exec', '-i', 'oc-x', 'cat'], 'piped\n'), 'piped\n');
    assert.equal(await ok(['run', '--rm', '-i', 'busybox', 'cat'], 'x\n'), 'x\n');
    await ok(['rm', '-f', 'oc-x']);
  });

  it('handles image names with a slash and adds its pull hint to a missing image', async () => {
    await ok(['tag', 'busybox', 'localhost:5000/ns/app:tag']);
    const one = await http('GET', '/v1.50/images/localhost:5000/ns/app:tag/get');
    assert.equal(one.status, 200);
    assert.ok(one.body.includes('manifest.json'));
    const insp = JSON.parse(await ok(['image', 'inspect', 'localhost:5000/ns/app:tag'])) as { RepoTags: string[] }[];
    assert.ok(insp[0]!.RepoTags.includes('localhost:5000/ns/app:tag'));
    await ok(['rmi', 'localhost:5000/ns/app:tag']);
    const r = await b.cli(['image', 'inspect', 'team/nosuch:1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No such image: team\/nosuch:1 — try: tsswarm pull team\/nosuch:1/);
  });
});
