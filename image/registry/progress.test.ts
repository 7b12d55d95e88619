import assert from 'node:assert/strict';
import { ProgressRenderer, progressBar } from './progress.js';

describe('image/registry/progress', () => {
  it('draws docker-style bars', () => {
    assert.equal(progressBar(0, 100, 10), '[          ]       0B/100B');
    assert.equal(progressBar(50, 100, 10), '[====>     ]      50B/100B');
    assert.equal(progressBar(100, 100, 10), '[==========]     100B/100B');
    assert.match(progressBar(12_345_678, 45_600_000), /12\.3MB\/45\.6MB$/);
  });

  it('prints plain lines on status changes only when not a TTY', () => {
    const out: string[] = [];
    const r = new ProgressRenderer({ write: (s: string) => out.push(s) }, false);
    r.handle({ status: 'latest: Pulling from busybox' });
    r.handle({ id: 'abc', status: 'Waiting' });
    r.handle({ id: 'abc', status: 'Downloading', current: 1, total: 10 });
    r.handle({ id: 'abc', status: 'Downloading', current: 5, total: 10 });
    r.handle({ id: 'abc', status: 'Pull complete' });
    assert.deepEqual(out, ['latest: Pulling from busybox\n', 'abc: Waiting\n', 'abc: Downloading\n', 'abc: Pull complete\n']);
  });

  it('redraws one line per layer in place on a TTY', () => {
    const out: string[] = [];
    const r = new ProgressRenderer({ write: (s: string) => out.push(s) }, true);
    r.handle({ id: 'a', status: 'Waiting' });
    r.handle({ id: 'b', status: 'Waiting' });
    r.handle({ id: 'a', status: 'Downloading', current: 5, total: 10 });
    const last = out[out.length - 1]!;
    assert.ok(last.startsWith('\x1b[2A'), 'cursor back up over both lines');
    assert.match(last, /a: Downloading \[/);
    assert.match(last, /b: Waiting/);
  });
});
