// The list formats' strict row types: an unknown field fails as Docker's template does, known ones render. One daemon (bundled CLI) on private dirs, socket and network names.
import assert from 'node:assert/strict';
import { useBusyboxDaemon } from './helpers/busybox.js';

describe('e2e: engine — strict list formats', function () {
  this.timeout(120_000);
  const engine = useBusyboxDaemon('/tmp/tsswarm-formats-');
  const cli = (args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => engine.cli(args);

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
