// docker-compose 1.29 (docker-py) drives our daemon unchanged: up/ps/logs/down of a two-service
// project, with no error lines on stderr.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBusyboxDaemon } from './helpers/busybox.js';
import { dockerEnv, errorLines, hasBinary, runClient, type ClientResult } from './helpers/docker-client.js';

const HAVE_COMPOSE = hasBinary('docker-compose');

const PROJECT = `version: "3.8"
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo web-up && sleep 1000"]
  worker:
    image: busybox
    command: ["sh", "-c", "echo worker-up && sleep 1000"]
    depends_on: [web]
`;

describe('e2e: docker-compose 1.29 against tsswarm', function () {
  this.timeout(180_000);
  if (!HAVE_COMPOSE) {
    before(function () {
      console.log("    skipped: no `docker-compose` on PATH (scripts/setup.sh installs Debian's docker-compose)");
      this.skip();
    });
    it('needs docker-compose');
    return;
  }
  const b = useBusyboxDaemon('/tmp/tsswarm-dcompose-');
  const compose = async (args: string[]): Promise<ClientResult> => {
    const dir = join(b.work, 'proj');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'docker-compose.yml'), PROJECT);
    const r = await runClient('docker-compose', ['--ansi', 'never', '-p', 'dcp', ...args], dockerEnv(b.d), { cwd: dir });
    assert.equal(r.code, 0, `docker-compose ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    assert.deepEqual(errorLines(r.stderr), [], `docker-compose ${args.join(' ')}: error lines on stderr:\n${r.stderr}`);
    return r;
  };

  it('brings a two-service project up, lists it, shows its logs and takes it down', async () => {
    const up = await compose(['up', '-d']);
    assert.match(up.stderr, /Creating network "dcp_default"/);
    assert.match(up.stderr, /Creating dcp_web_1 +\.\.\. done/);
    assert.match(up.stderr, /Creating dcp_worker_1 \.\.\. done/);
    const ps = (await compose(['ps'])).stdout;
    assert.match(ps, /dcp_web_1\s.*\sUp/);
    assert.match(ps, /dcp_worker_1\s.*\sUp/);
    let logs = '';
    for (let i = 0; i < 100 && !(logs.includes('web-up') && logs.includes('worker-up')); i++) logs = (await compose(['logs'])).stdout;
    assert.match(logs, /web_1 +\| web-up/);
    assert.match(logs, /worker_1 +\| worker-up/);
    const down = await compose(['down', '-t', '1']);
    assert.match(down.stderr, /Removing dcp_web_1 +\.\.\. done/);
    assert.match(down.stderr, /Removing network dcp_default/);
    const left = await runClient('docker', ['ps', '-a', '--format', '{{.Names}}'], dockerEnv(b.d));
    if (left.code === 0) assert.doesNotMatch(left.stdout, /dcp_/);
  });
});
