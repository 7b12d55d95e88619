// Regression tests for the third round: the init's command line in an --init container, and the strict row types of the list formats. One daemon (bundled CLI) on private dirs, socket and network names.
import assert from 'node:assert/strict';
import { useBusyboxDaemon } from './helpers/busybox.js';

describe('e2e: engine fixes 3 — init command line, strict list formats', function () {
  this.timeout(120_000);
  const engine = useBusyboxDaemon('/tmp/tsswarm-fixes3-');
  const cli = (args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => engine.cli(args);

  it('--init: PID 1 reads "/sbin/tsswarm-init -- CMD…" in ps and /proc/1/cmdline, with no host path', async function () {
    const r = await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'tr "\\0" " " </proc/1/cmdline; echo; cat /proc/1/comm; ps -o pid,args']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], '/sbin/tsswarm-init -- sh -c tr "\\0" " " </proc/1/cmdline; echo; cat /proc/1/comm; ps -o pid,args ');
    assert.equal(lines[1], 'tsswarm-init');
    const pid1 = lines.find((l) => /^\s*1\s/.test(l));
    assert.match(pid1 ?? '', /^\s*1\s+\/sbin\/tsswarm-init -- sh -c /);
    assert.doesNotMatch(r.stdout, /tsbox|dist\//, 'the host path of the helper does not show');
  });

  it('--init: the exit status, signal forwarding and reaping are unchanged', async function () {
    const ok = await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'exit 7']);
    assert.equal(ok.code, 7);
    const killed = await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'kill -TERM $$; sleep 5']);
    assert.equal(killed.code, 143, 'a signal death becomes 128+n');
    const z = await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'sh -c "sleep 0 & exec sleep 0.3"; grep -l "^State:.*Z" /proc/[0-9]*/status | wc -l']);
    assert.equal(z.code, 0, z.stderr);
    assert.equal(z.stdout.trim(), '0', 'the orphaned zombie was reaped by the init');
  });

  for (const [args, type] of [
    [['images'], '*formatter.ImageContext'],
    [['network', 'ls'], '*formatter.networkContext'],
    [['volume', 'ls'], '*formatter.volumeContext'],
    [['history', 'busybox'], '*formatter.historyContext'],
  ] as const) {
    it(`${args.join(' ')} --format with an unknown field fails like Docker (${type})`, async function () {
      // As in Docker, a template is only executed per row: give volume ls a row.
      if (args[0] === 'volume') await cli(['volume', 'create', 'fx3row']);
      const bad = await cli([...args, '--format', '{{.Nope}}']);
      if (args[0] === 'volume') await cli(['volume', 'rm', 'fx3row']);
      assert.notEqual(bad.code, 0);
      const esc = type.replace(/[.*]/g, (c) => `\\${c}`);
      assert.match(bad.stderr, new RegExp(`template: :1:2: executing "" at <\\.Nope>: can't evaluate field Nope in type ${esc}`));
    });
  }

  it('known fields of Docker\'s row types still render', async function () {
    const img = await cli(['images', '--format', '{{.Repository}}:{{.Tag}} {{.Containers}} {{.VirtualSize}} {{.SharedSize}} {{.UniqueSize}}']);
    assert.equal(img.code, 0, img.stderr);
    assert.match(img.stdout, /^busybox:latest N\/A \S+ N\/A N\/A$/m);
    const net = await cli(['network', 'ls', '--format', '{{.Name}} {{.IPv6}} {{.Internal}} {{.Labels}}']);
    assert.equal(net.code, 0, net.stderr);
    assert.match(net.stdout, /^bridge false false /m);
    await cli(['volume', 'create', '--label', 'a=b', 'fx3vol']);
    const vol = await cli(['volume', 'ls', '--format', '{{.Name}} {{.Labels}} {{.Links}} {{.Size}} {{.Mountpoint}}']);
    await cli(['volume', 'rm', 'fx3vol']);
    assert.equal(vol.code, 0, vol.stderr);
    assert.match(vol.stdout, /^fx3vol a=b N\/A N\/A \/\S+$/m);
    const hist = await cli(['history', '--format', '{{.ID}} {{.CreatedBy}} {{.Comment}}', 'busybox']);
    assert.equal(hist.code, 0, hist.stderr);
    assert.ok(hist.stdout.trim().length > 0);
  });
});
