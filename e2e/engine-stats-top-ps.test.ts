// Observing containers: stats (CLI and API), top, ps --format errors and ps -s sizes, against one daemon (bundled CLI) on private dirs, socket and network names.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { startDaemon, type TestDaemon } from './helpers/daemon.js';
import { loadBusyboxImage } from './helpers/busybox.js';

function getJson<T>(host: string, path: string): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: host.replace(/^unix:\/\//, ''), path }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('e2e: engine — stats, top, ps formats and sizes', function () {
  this.timeout(120_000);
  let d: TestDaemon;
  let work: string;
  let cli: (args: string[]) => Promise<{ stdout: string; stderr: string; code: number }>;

  before(async function () {
    work = mkdtempSync('/tmp/tsswarm-fixes2-');
    d = await startDaemon();
    cli = (args) => d.cli(args);
    await loadBusyboxImage(d, work);
    const up = await cli(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/big bs=1k count=64 2>/dev/null; while :; do :; done']);
    assert.equal(up.code, 0, up.stderr);
  });
  after(async function () {
    await d?.cli(['rm', '-f', 'busy']);
    await d?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('stats --no-stream: Docker columns, CPU % from two samples, memory limit of the host', async function () {
    const r = await cli(['stats', '--no-stream', 'busy']);
    assert.equal(r.code, 0, r.stderr);
    const [head, row] = r.stdout.trimEnd().split('\n');
    assert.deepEqual(head!.split(/\s{2,}/), ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS']);
    const cols = row!.split(/\s{2,}/);
    assert.equal(cols[1], 'busy');
    // A busy loop: some CPU shows (any non-zero value, no timing assumptions).
    assert.match(cols[2]!, /^\d+\.\d\d%$/);
    assert.notEqual(cols[2], '0.00%');
    assert.match(cols[3]!, /^\S+ \/ \S+$/);
    assert.doesNotMatch(cols[3]!, /unlimited/);
    assert.match(cols[4]!, /^\d+\.\d\d%$/);
    assert.match(cols[5]!, /^\S+ \/ \S+$/);
    assert.match(cols[6]!, /^\S+ \/ \S+$/);
    assert.match(cols[7]!, /^\d+$/);
  });

  it('GET /containers/{id}/stats?stream=0 has Docker\'s JSON shape', async function () {
    const { status, body } = await getJson<Record<string, Record<string, unknown>>>(d.host, '/containers/busy/stats?stream=0');
    assert.equal(status, 200);
    const cpu = body.cpu_stats as { cpu_usage: { total_usage: number }; system_cpu_usage: number; online_cpus: number };
    const pre = body.precpu_stats as { cpu_usage: { total_usage: number }; system_cpu_usage: number };
    assert.ok(cpu.cpu_usage.total_usage > 0 && cpu.system_cpu_usage > 0 && cpu.online_cpus > 0);
    assert.ok(pre.system_cpu_usage > 0 && pre.system_cpu_usage <= cpu.system_cpu_usage);
    const mem = body.memory_stats as { usage: number; limit: number };
    assert.ok(mem.usage > 0 && mem.limit > 0);
    assert.ok((body.pids_stats as { current: number }).current >= 1);
    assert.ok('blkio_stats' in body);
    const nets = body.networks as Record<string, { rx_bytes: number; tx_bytes: number }>;
    assert.ok(nets && !('lo' in nets) && typeof nets.eth0?.rx_bytes === 'number');
  });

  it('top: default ps -ef columns with STIME; ps options after the container', async function () {
    const def = await cli(['top', 'busy']);
    assert.equal(def.code, 0, def.stderr);
    const lines = def.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]!.split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.ok(lines.length >= 2);
    assert.match(lines[1]!, /^root\s+\d+\s+\d+\s+\d+\s+\S+\s+\S+\s+\S+\s+sh -c /);

    const o = await cli(['top', 'busy', '-o', 'pid,comm']);
    assert.equal(o.code, 0, o.stderr);
    const ol = o.stdout.trimEnd().split('\n');
    assert.deepEqual(ol[0]!.trim().split(/\s+/), ['PID', 'COMMAND']);
    assert.ok(ol.slice(1).some((l) => /^\d+\s+sh$/.test(l.trim())), o.stdout);

    const aux = await cli(['top', 'busy', 'aux']);
    assert.equal(aux.code, 0, aux.stderr);
    assert.match(aux.stdout.split('\n')[0]!, /^USER\s+PID\s+%CPU/);

    const { status, body } = await getJson<{ Titles: string[]; Processes: string[][] }>(d.host, '/containers/busy/top?ps_args=-o%20pid,comm');
    assert.equal(status, 200);
    assert.deepEqual(body.Titles, ['PID', 'COMMAND']);
    assert.ok(body.Processes.some((p) => p[1] === 'sh'));
  });

  it('ps --format with an unknown field fails like Docker; inspect -f keeps <no value>', async function () {
    const bad = await cli(['ps', '--format', '{{.Nope}}']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /template: :1:2: executing "" at <\.Nope>: can't evaluate field Nope in type \*formatter\.ContainerContext/);
    const ok = await cli(['ps', '--format', '{{.Names}}']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /busy/);
    const ins = await cli(['inspect', '-f', '{{.Nope}}', 'busy']);
    assert.equal(ins.code, 0, ins.stderr);
    assert.equal(ins.stdout, '<no value>\n');
  });

  it('ps -s adds SIZE: the writable layer and the virtual size; the API gives SizeRw and SizeRootFs', async function () {
    const r = await cli(['ps', '-s', '--filter', 'name=busy']);
    assert.equal(r.code, 0, r.stderr);
    const [head, row] = r.stdout.trimEnd().split('\n');
    assert.match(head!, /NAMES\s+SIZE$/);
    assert.match(row!, /\s(\d+(\.\d+)?[kMG]?B) \(virtual \d+(\.\d+)?[kMG]?B\)$/);
    const { body } = await getJson<{ Names: string[]; SizeRw: number; SizeRootFs: number }[]>(d.host, '/containers/json?size=1');
    const c = body.find((x) => x.Names.includes('/busy'))!;
    assert.ok(c.SizeRw >= 64 * 1024, `SizeRw ${c.SizeRw}`);
    assert.ok(c.SizeRootFs > c.SizeRw);
  });
});
