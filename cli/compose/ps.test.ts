import assert from 'node:assert/strict';
import { psRow } from './ps.js';
import type { ContainerSummary } from './summary.js';

describe('cli/compose/ps: rows', function () {
  const c: ContainerSummary = {
    Id: 'a'.repeat(64),
    Names: ['/proj-web-1'],
    Image: 'busybox',
    Command: `sh -c 'sleep 2; echo "done"'`,
    Created: Date.UTC(2026, 10, 23, 23, 4, 19) / 1000,
    Ports: [],
    Labels: {},
    State: 'running',
    Status: 'Up 1 second',
  };

  it('quotes the command as Go does; whole for JSON, shortened for the table', function () {
    assert.equal(psRow(c, Date.now(), true).Command, `"sh -c 'sleep 2; echo \\"done\\"'"`);
    assert.equal(psRow(c, Date.now(), false).Command, `"sh -c 'sleep 2; ech…"`);
  });

  it('gives CreatedAt as Docker prints it', function () {
    assert.match(psRow(c, Date.now()).CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
    // CreatedAt is in the local zone: pinned to UTC (Node re-reads TZ when it is assigned) so the exact
    // text is Go's whatever zone the machine runs in.
    const saved = process.env.TZ;
    process.env.TZ = 'UTC';
    try {
      assert.equal(new Date(c.Created * 1000).getTimezoneOffset(), 0, 'TZ=UTC did not take effect in this Node');
      assert.equal(psRow(c, Date.now()).CreatedAt, '2026-11-23 23:04:19 +0000 UTC');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});
