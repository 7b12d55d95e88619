// Local users must not read image layers or container files: Docker's modes on the data root
// (0710), the image store (0700) and the build cache (0700).
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBusyboxDaemon } from './helpers/busybox.js';

describe('e2e: data-root file modes', function () {
  const b = useBusyboxDaemon('/tmp/tsswarm-modes-');
  const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

  it('keeps the data root 0710 and the image store 0700', function () {
    const data = join(b.d.dir, 'data');
    assert.equal(mode(data), '710');
    assert.equal(mode(join(data, 'image')), '700');
  });

  it('keeps the build cache 0700', async function () {
    const ctx = join(b.work, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox:latest\nRUN echo hi > /hi\n');
    const r = await b.cli(['build', '-q', '-t', 'modes:1', ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mode(join(b.d.dir, 'data', 'build')), '700');
  });
});
