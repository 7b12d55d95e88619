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
    // Where the machine's zone is UTC the exact text is Go's.
    if (new Date(c.Created * 1000).getTimezoneOffset() === 0) assert.equal(psRow(c, Date.now()).CreatedAt, '2026-11-23 23:04:19 +0000 UTC');
  });
});
