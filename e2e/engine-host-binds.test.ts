// --network host (host name, read-only /etc/hosts) and bind mounts (-v creates a missing host
// directory, --mount type=bind refuses it), against a real daemon (bundled CLI).
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/daemon.js';
import { useBusyboxDaemon } from './helpers/busybox.js';

describe('e2e: engine — host network and binds', function () {
  const engine = useBusyboxDaemon('/tmp/tsswarm-fixes-e2e-');
  const cli = (args: string[]): ReturnType<typeof runCli> => engine.cli(args);

  it('--network host: the host name and the host /etc/hosts (read-only)', async function () {
    const r = await cli(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'hostname; cat /etc/hosts; (echo x >> /etc/hosts) 2>/dev/null && echo writable; true']);
    assert.equal(r.code, 0, r.stderr);
    const [name, ...rest] = r.stdout.split('\n');
    assert.equal(name, hostname());
    assert.equal(rest.join('\n').replace(/\n+$/, ''), readFileSync('/etc/hosts', 'utf8').replace(/\n+$/, ''));
    assert.doesNotMatch(r.stdout, /writable/);
  });

  it('-v creates a missing host directory; --mount type=bind refuses it', async function () {
    const src = join(engine.work, 'nonexist', 'dir');
    const r = await cli(['run', '--rm', '-v', `${src}:/x`, 'busybox', 'sh', '-c', 'echo hi > /x/f']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(statSync(src).isDirectory());
    assert.equal(readFileSync(join(src, 'f'), 'utf8'), 'hi\n');
    const m = await cli(['run', '--rm', '--mount', `type=bind,source=${join(engine.work, 'nope')},target=/x`, 'busybox', 'true']);
    assert.equal(m.code, 125);
    assert.match(m.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${join(engine.work, 'nope')}`));
  });
});
