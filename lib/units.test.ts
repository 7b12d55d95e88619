import assert from 'node:assert/strict';
import {
  UnitsError,
  bytesSize,
  formatDuration,
  formatG,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  parseDuration,
  ramInBytes,
  statusText,
  timeAgo,
} from './units.js';

describe('lib/units', () => {
  describe('ramInBytes', () => {
    it('reads Docker size strings with binary multipliers', () => {
      const cases: [string, number][] = [
        ['512', 512],
        ['512b', 512],
        ['512B', 512],
        ['10k', 10240],
        ['10K', 10240],
        ['10kb', 10240],
        ['10KiB', 10240],
        ['512m', 512 * 2 ** 20],
        ['1g', 2 ** 30],
        ['1.5g', 1.5 * 2 ** 30],
        ['2 GB', 2 * 2 ** 30],
        ['1t', 2 ** 40],
      ];
      for (const [text, n] of cases) assert.equal(ramInBytes(text), n, text);
    });
    it('errors name the value', () => {
      for (const bad of ['', 'abc', '12x', '-1', '1.2.3m', 'm']) {
        assert.throws(() => ramInBytes(bad), (e: unknown) => e instanceof UnitsError && e.message.includes(`'${bad}'`));
      }
    });
  });

  describe('human sizes', () => {
    it('formats like go-units', () => {
      assert.equal(humanSize(0), '0B');
      assert.equal(humanSize(999), '999B');
      assert.equal(humanSize(1000), '1kB');
      assert.equal(humanSize(12345678), '12.35MB');
      assert.equal(humanSizeWithPrecision(12345678, 3), '12.3MB');
      assert.equal(humanSize(5 * 1000 ** 3), '5GB');
      assert.equal(bytesSize(1536), '1.5KiB');
      assert.equal(bytesSize(2 ** 30), '1GiB');
    });
    it('formatG follows Go %g', () => {
      assert.equal(formatG(1234.4, 4), '1234');
      assert.equal(formatG(12344, 4), '1.234e+04');
      assert.equal(formatG(0.5, 3), '0.5');
      assert.equal(formatG(999.96, 4), '1000');
      assert.equal(formatG(999.96, 3), '1e+03');
    });
  });

  describe('Go durations', () => {
    it('parses', () => {
      const cases: [string, number][] = [
        ['0', 0],
        ['30s', 30e9],
        ['1m30s', 90e9],
        ['1h', 3600e9],
        ['500ms', 5e8],
        ['2.5s', 2.5e9],
        ['1.5h', 5400e9],
        ['100us', 1e5],
        ['100µs', 1e5],
        ['10ns', 10],
        ['-1s', -1e9],
        ['1h2m3s4ms', 3723004e6],
      ];
      for (const [text, ns] of cases) assert.equal(parseDuration(text), ns, text);
    });
    it('errors name the value', () => {
      for (const bad of ['', '30', 's', '1x', '1 s', '1.5']) {
        assert.throws(() => parseDuration(bad), (e: unknown) => e instanceof UnitsError && e.message.includes(`"${bad}"`), bad);
      }
    });
    it('formats like Duration.String', () => {
      const cases: [number, string][] = [
        [0, '0s'],
        [30e9, '30s'],
        [90e9, '1m30s'],
        [3600e9, '1h0m0s'],
        [5e8, '500ms'],
        [2.5e9, '2.5s'],
        [1500, '1.5µs'],
        [10, '10ns'],
        [-1e9, '-1s'],
        [3723004e6, '1h2m3.004s'],
      ];
      for (const [ns, text] of cases) assert.equal(formatDuration(ns), text, text);
    });
    it('round-trips', () => {
      for (const t of ['1m30s', '500ms', '2.5s', '1h0m0s', '45s']) assert.equal(formatDuration(parseDuration(t)), t);
    });
  });

  describe('relative times', () => {
    it('humanDuration', () => {
      const cases: [number, string][] = [
        [500, 'Less than a second'],
        [1000, '1 second'],
        [5000, '5 seconds'],
        [60_000, 'About a minute'],
        [119_000, 'About a minute'],
        [120_000, '2 minutes'],
        [59 * 60_000, '59 minutes'],
        [60 * 60_000, 'About an hour'],
        [2 * 3_600_000, '2 hours'],
        [47 * 3_600_000, '47 hours'],
        [3 * 86_400_000, '3 days'],
        [20 * 86_400_000, '2 weeks'],
        [90 * 86_400_000, '3 months'],
        [800 * 86_400_000, '2 years'],
      ];
      for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, String(ms));
    });
    it('timeAgo', () => {
      const now = Date.parse('2024-05-01T12:00:00Z');
      assert.equal(timeAgo('2024-05-01T10:00:00Z', now), '2 hours ago');
      assert.equal(timeAgo(new Date(now - 61_000), new Date(now)), 'About a minute ago');
    });
    it('statusText as docker ps prints', () => {
      const now = Date.parse('2024-05-01T12:00:00Z');
      const base = { Running: false, ExitCode: 0, StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z' };
      assert.equal(statusText(base, now), 'Created');
      assert.equal(statusText({ ...base, Running: true, StartedAt: '2024-05-01T11:59:55Z' }, now), 'Up 5 seconds');
      assert.equal(
        statusText({ ...base, Running: true, StartedAt: '2024-05-01T11:59:55Z', Health: { Status: 'starting' } }, now),
        'Up 5 seconds (health: starting)',
      );
      assert.equal(statusText({ ...base, Running: true, StartedAt: '2024-05-01T10:00:00Z', Health: { Status: 'healthy' } }, now), 'Up 2 hours (healthy)');
      assert.equal(statusText({ ...base, Running: true, Paused: true, StartedAt: '2024-05-01T11:00:00Z' }, now), 'Up About an hour (Paused)');
      assert.equal(
        statusText({ ...base, ExitCode: 137, StartedAt: '2024-05-01T09:00:00Z', FinishedAt: '2024-05-01T10:00:00Z' }, now),
        'Exited (137) 2 hours ago',
      );
      assert.equal(
        statusText({ ...base, Running: true, Restarting: true, ExitCode: 1, StartedAt: '2024-05-01T11:00:00Z', FinishedAt: '2024-05-01T11:59:58Z' }, now),
        'Restarting (1) 2 seconds ago',
      );
      assert.equal(statusText({ ...base, Dead: true, StartedAt: '2024-05-01T11:00:00Z' }, now), 'Dead');
    });
  });
});
