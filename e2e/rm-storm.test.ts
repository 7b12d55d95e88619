// One `rm -f` of many containers at once (issue: a storm of concurrent DELETEs was reported to leave
// containers behind with connections closed unanswered): every container goes, the CLI exits 0 and
// prints every ID in argument order. Also: a request target the daemon cannot parse gets a 400 and
// leaves the daemon serving (it used to end the daemon through an unhandled rejection).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { useBusyboxDaemon } from './helpers/busybox.js';

/** Containers that run (`run -d`) and ones only created: the removal paths differ (kill and wait). */
const RUNNING = 60;
const CREATED = 20;
/** CLI processes at once while making them: enough to be quick, few enough for 2 cores. */
const MAKERS = 4;

/** Sends raw bytes on the daemon's socket and returns everything it answers until it closes. */
function rawExchange(sock: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(sock);
    let got = '';
    c.on('connect', () => c.write(bytes));
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    c.on('error', reject);
    c.on('close', () => resolve(got));
  });
}

describe('e2e: rm -f of many containers at once', function () {
  this.timeout(600_000);
  const b = useBusyboxDaemon('/tmp/tsswarm-rmstorm-');

  it(`removes ${RUNNING} running and ${CREATED} created containers in one rm -f, printing each ID`, async function () {
    const made: string[] = [];
    const jobs = [
      ...Array.from({ length: RUNNING }, () => ['run', '-d', 'busybox', 'sleep', '1000']),
      ...Array.from({ length: CREATED }, () => ['create', 'busybox', 'sleep', '1000']),
    ];
    for (let i = 0; i < jobs.length; i += MAKERS) {
      const batch = await Promise.all(
        jobs.slice(i, i + MAKERS).map(async (args) => {
          const r = await b.cli(args);
          assert.equal(r.code, 0, `tsswarm ${args.join(' ')}: ${r.stderr}`);
          return r.stdout.trim();
        }),
      );
      made.push(...batch);
    }
    assert.equal(new Set(made).size, RUNNING + CREATED);
    const running = (await b.cli(['ps', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    assert.equal(running.length, RUNNING, 'the run -d containers are running before the removal');

    const r = await b.cli(['rm', '-f', ...made]);
    assert.equal(r.stderr, '', 'no removal failed');
    assert.equal(r.code, 0);
    assert.deepEqual(r.stdout.split('\n').filter(Boolean), made, 'each ID printed once, in argument order');

    const left = (await b.cli(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    assert.deepEqual(
      left.filter((id) => made.includes(id)),
      [],
      'no container is left',
    );
    // The daemon still serves after the storm.
    assert.equal((await b.cli(['version'])).code, 0);
  });

  it('answers a request target it cannot parse with a 400 naming it, and keeps serving', async function () {
    const sock = b.d.host.slice('unix://'.length);
    const answer = await rawExchange(sock, 'GET // HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 /, `the answer was: ${JSON.stringify(answer)}`);
    const message = (JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { message: string }).message;
    assert.match(message, /^invalid request target "\/\/": expected an absolute path/);
    assert.equal(b.d.proc.exitCode, null, 'the daemon is still running');
    const v = await b.cli(['version']);
    assert.equal(v.code, 0, v.stderr);
  });
});
