// `tsswarm events` / GET /events: a live subscriber sees a container's life in order with Docker's
// attributes; --since replays from the daemon's ring; --filter selects by type and event.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { startDaemon, type TestDaemon } from './helpers/daemon.js';
import { loadBusyboxImage } from './helpers/busybox.js';

interface Ev {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

/** Opens GET /events and collects events until `done` says so. */
function subscribe(host: string, query: string, done: (evs: Ev[]) => boolean): { ready: Promise<void>; events: Promise<Ev[]> } {
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const events = new Promise<Ev[]>((resolve, reject) => {
    const req = request({ socketPath: host.replace(/^unix:\/\//, ''), path: `/v1.41/events${query}` }, (res: IncomingMessage) => {
      ready();
      const evs: Ev[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          evs.push(JSON.parse(buf.slice(0, nl)) as Ev);
          buf = buf.slice(nl + 1);
        }
        if (done(evs)) {
          req.destroy();
          resolve(evs);
        }
      });
      res.on('end', () => resolve(evs));
    });
    req.once('error', reject);
    req.end();
  });
  return { ready: readyP, events };
}

describe('e2e: engine events', function () {
  this.timeout(120_000);
  let d: TestDaemon;
  let work: string;
  let cli: (args: string[]) => Promise<{ stdout: string; stderr: string; code: number }>;
  let t0: string;
  let cid: string;

  before(async function () {
    work = mkdtempSync('/tmp/tsswarm-events-');
    d = await startDaemon();
    cli = (args) => d.cli(args);
    t0 = (Date.now() / 1000).toFixed(3);
    await loadBusyboxImage(d, work);
  });
  after(async function () {
    await d?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('a subscriber sees create, start, die, destroy in order with Docker\'s attributes', async function () {
    const sub = subscribe(d.host, `?filters=${encodeURIComponent(JSON.stringify({ type: ['container'] }))}`, (evs) => evs.some((e) => e.Action === 'destroy'));
    await sub.ready;
    const run = await cli(['run', '--name', 'ev1', '--label', 'k=v', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(run.code, 3, run.stderr);
    const rm = await cli(['rm', 'ev1']);
    assert.equal(rm.code, 0, rm.stderr);
    const evs = await sub.events;
    assert.deepEqual(evs.map((e) => e.Action).filter((a) => a !== 'attach'), ['create', 'start', 'die', 'destroy']);
    cid = evs[0]!.Actor.ID;
    assert.match(cid, /^[0-9a-f]{64}$/);
    for (const e of evs) {
      assert.equal(e.Type, 'container');
      assert.equal(e.scope, 'local');
      assert.equal(e.Actor.ID, cid);
      assert.equal(e.Actor.Attributes.name, 'ev1');
      assert.equal(e.Actor.Attributes.image, 'busybox');
      assert.equal(e.Actor.Attributes.k, 'v', 'labels are attributes');
      assert.equal(e.status, e.Action);
      assert.equal(e.id, cid);
      assert.equal(e.from, 'busybox');
      assert.equal(e.time, Math.floor(e.timeNano / 1e9));
    }
    assert.equal(evs.find((e) => e.Action === 'die')!.Actor.Attributes.exitCode, '3');
    const nanos = evs.map((e) => e.timeNano);
    assert.deepEqual([...nanos].sort((a, b) => a - b), nanos);
  });

  it('--since replays from the ring; --until ends the stream; --filter type/event', async function () {
    const until = (Date.now() / 1000).toFixed(3);
    const all = await cli(['events', '--since', t0, '--until', until, '--format', 'json']);
    assert.equal(all.code, 0, all.stderr);
    const evs = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev);
    assert.ok(evs.some((e) => e.Type === 'image' && e.Action === 'load'), 'the load is replayed');
    const life = evs.filter((e) => e.Type === 'container' && e.Actor.ID === cid && e.Action !== 'attach').map((e) => e.Action);
    assert.deepEqual(life, ['create', 'start', 'die', 'destroy']);

    const starts = await cli(['events', '--since', t0, '--until', until, '--filter', 'type=container', '--filter', 'event=start', '--filter', 'event=die']);
    assert.equal(starts.code, 0, starts.stderr);
    const lines = starts.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z container start ${cid} \\(image=busybox, k=v, name=ev1\\)$`));
    assert.match(lines[1]!, new RegExp(` container die ${cid} \\(exitCode=3, image=busybox, k=v, name=ev1\\)$`));

    const tpl = await cli(['events', '--since', t0, '--until', until, '--filter', 'type=image', '--format', '{{.Type}} {{.Action}}']);
    assert.equal(tpl.code, 0, tpl.stderr);
    assert.ok(tpl.stdout.trim().split('\n').every((l) => l.startsWith('image ')), tpl.stdout);
  });

  it('networks and volumes publish create and destroy', async function () {
    const t = (Date.now() / 1000).toFixed(3);
    for (const a of [['network', 'create', 'evnet'], ['network', 'rm', 'evnet'], ['volume', 'create', 'evvol'], ['volume', 'rm', 'evvol']]) {
      const r = await cli(a);
      assert.equal(r.code, 0, r.stderr);
    }
    const r = await cli(['events', '--since', t, '--until', (Date.now() / 1000).toFixed(3), '--filter', 'type=network', '--filter', 'type=volume', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const evs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev);
    // A volume's actor is its name; a network's is its id, with the name as an attribute.
    assert.deepEqual(evs.map((e) => `${e.Type} ${e.Action} ${e.Type === 'volume' ? e.Actor.ID : e.Actor.Attributes.name}`), ['network create evnet', 'network destroy evnet', 'volume create evvol', 'volume destroy evvol']);
  });
});
