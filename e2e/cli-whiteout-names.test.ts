// A file named like an overlay whiteout (.wh.x) is copied as a file by cp and by build, not turned
// into a whiteout. One daemon for the file.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBusyboxDaemon } from './helpers/busybox.js';

describe('e2e: CLI — files named .wh.*', function () {
  const bd = useBusyboxDaemon('/tmp/tsswarm-cli-wh-');
  const cli = (args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> => bd.cli(args, input === undefined ? undefined : { input });

  it('cp and build copy a file named .wh.x as a file, not as a whiteout', async function () {
    const src = join(bd.work, 'wh');
    mkdirSync(src);
    writeFileSync(join(src, '.wh.x'), 'plain\n');
    writeFileSync(join(src, 'x'), 'kept\n');
    writeFileSync(join(src, 'Dockerfile'), 'FROM busybox\nCOPY .wh.x /from-context\nCOPY x /x\n');
    const c = await cli(['run', '-d', '--name', 'whcp', 'busybox', 'sleep', '600']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await cli(['exec', 'whcp', 'sh', '-c', 'echo there > /tmp/x'])).code, 0);
    const cp = await cli(['cp', join(src, '.wh.x'), 'whcp:/tmp/']);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal((await cli(['exec', 'whcp', 'cat', '/tmp/.wh.x', '/tmp/x'])).stdout, 'plain\nthere\n');
    assert.equal((await cli(['rm', '-f', 'whcp'])).code, 0);

    const b = await cli(['build', '-q', '-t', 'whctx:1', src]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal((await cli(['run', '--rm', 'whctx:1', 'cat', '/from-context', '/x'])).stdout, 'plain\nkept\n');
    assert.equal((await cli(['rmi', 'whctx:1'])).code, 0);
  });
});
