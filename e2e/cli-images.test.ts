// Image commands as Docker's CLI prints them: images REPO[:TAG] filters, one push/pull summary naming
// the tag, and error texts with the real cause and one prefix per origin. One daemon for the file.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from '../image/testing/registry.js';
import { useBusyboxDaemon } from './helpers/busybox.js';

describe('e2e: CLI — images, push/pull and error texts', function () {
  const b = useBusyboxDaemon('/tmp/tsswarm-cli-images-');
  const cli = (args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> => b.cli(args, input === undefined ? undefined : { input });

  it('images / image ls REPO[:TAG] lists only the matching names (wildcards too)', async function () {
    assert.equal((await cli(['tag', 'busybox', 'fix/one:1'])).code, 0);
    assert.equal((await cli(['tag', 'busybox', 'fix/two:2'])).code, 0);
    const names = async (args: string[]): Promise<string[]> => (await cli([...args, '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(await names(['images', 'busybox']), ['busybox:latest']);
    assert.deepEqual(await names(['image', 'ls', 'fix/one:1']), ['fix/one:1']);
    assert.deepEqual(await names(['image', 'ls', 'fix/*']), ['fix/one:1', 'fix/two:2']);
    assert.deepEqual(await names(['images', 'fix/one:2']), []);
    const json = JSON.parse((await cli(['images', '--format', 'json', 'fix/one'])).stdout) as { CreatedAt: string };
    assert.match(json.CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
    assert.equal((await cli(['rmi', 'fix/one:1', 'fix/two:2'])).code, 0);
  });

  describe('registry round trip', function () {
    let reg: TestRegistry;
    before(async function () {
      reg = await startRegistry();
    });
    after(async function () {
      await reg?.stop();
    });

    it('push and pull print one summary, naming the tag', async function () {
      const name = `${reg.host}/test/myimg:1`;
      assert.equal((await cli(['tag', 'busybox', name])).code, 0);
      const push = await cli(['push', name]);
      assert.equal(push.code, 0, push.stderr);
      const digestLines = push.stdout.split('\n').filter((l) => /digest: /.test(l));
      assert.equal(digestLines.length, 1, push.stdout);
      assert.match(digestLines[0]!, /^1: digest: sha256:[0-9a-f]{64} size: \d+$/);

      assert.equal((await cli(['rmi', name])).code, 0);
      const pull = await cli(['pull', name]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.equal(pull.stdout.split('\n').filter((l) => l.startsWith('Digest: ')).length, 1, pull.stdout);
      assert.deepEqual(
        pull.stdout.split('\n').filter((l) => l.startsWith('Status: ')),
        [`Status: Downloaded newer image for ${name}`],
      );
      const again = await cli(['pull', name]);
      assert.deepEqual(
        again.stdout.split('\n').filter((l) => l.startsWith('Status: ')),
        [`Status: Image is up to date for ${name}`],
      );
      // No tag: Docker's CLI says which one it uses, and the registry has no "latest".
      const none = await cli(['pull', `${reg.host}/test/myimg`]);
      assert.equal(none.code, 1);
      assert.equal(none.stdout, 'Using default tag: latest\n');
      assert.match(none.stderr, /^Error response from daemon: manifest unknown: /);
    });
  });

  it('error messages: the real cause, Docker\'s texts, one prefix per origin', async function () {
    const refused = await cli(['pull', '127.0.0.1:1/x:1']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, 'Error response from daemon: cannot reach registry 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\n');

    const push = await cli(['push', 'nosuch/img:3']);
    assert.equal(push.code, 1);
    assert.equal(push.stdout, 'The push refers to repository [docker.io/nosuch/img]\n');
    assert.equal(push.stderr, 'An image does not exist locally with the tag: nosuch/img\n');

    const load = await cli(['load', '-i', '/etc/passwd']);
    assert.equal(load.code, 1);
    assert.equal(load.stderr, 'Error response from daemon: invalid image archive: not a tar archive (bad header checksum at byte 0)\n');
    const notImage = join(b.work, 'plain.tar');
    const { execFileSync } = await import('node:child_process');
    execFileSync('tar', ['-cf', notImage, '-C', '/etc', 'hostname']);
    const plain = await cli(['load', '-i', notImage]);
    assert.match(plain.stderr, /^Error response from daemon: invalid image archive: no manifest\.json/);
    assert.doesNotMatch(plain.stderr + load.stderr, /load-|archive\.tar/);

    // From the daemon: Docker's prefix. The CLI's own: the program's name.
    assert.match((await cli(['tag', 'nope', 'x'])).stderr, /^Error response from daemon: No such image: nope/);
    const flag = await cli(['images', '-f', 'bad']);
    assert.equal(flag.code, 125);
    assert.match(flag.stderr, /^tsswarm: invalid argument "bad"/);
  });
});
