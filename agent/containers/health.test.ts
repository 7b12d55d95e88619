import assert from 'node:assert/strict';
import {
  applyProbe,
  errorResult,
  initialHealth,
  nextProbeDelay,
  resolveHealthcheck,
  timeoutResult,
  type HealthState,
  type ResolvedHealthcheck,
} from './health.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');

describe('agent/containers/health', () => {
  it('resolves config: container over image, defaults, NONE, CMD vs CMD-SHELL', () => {
    assert.equal(resolveHealthcheck(undefined), undefined);
    assert.equal(resolveHealthcheck({ Test: ['NONE'] }, { Test: ['CMD', 'true'] }), undefined);
    assert.deepEqual(resolveHealthcheck({ Test: ['CMD-SHELL', 'curl -f localhost || exit 1'] }), {
      argv: ['/bin/sh', '-c', 'curl -f localhost || exit 1'],
      intervalMs: 30_000,
      timeoutMs: 30_000,
      startPeriodMs: 0,
      startIntervalMs: 5_000,
      retries: 3,
    });
    const r = resolveHealthcheck({ Interval: 5e9, Retries: 0 }, { Test: ['CMD', 'pg_isready', '-q'], Interval: 10e9, Timeout: 2e9, Retries: 5 });
    assert.deepEqual(r?.argv, ['pg_isready', '-q']);
    assert.equal(r?.intervalMs, 5000);
    assert.equal(r?.timeoutMs, 2000);
    assert.equal(r?.retries, 5);
    assert.throws(() => resolveHealthcheck({ Test: ['CMD'] }), /no command after CMD/);
  });

  const hc: ResolvedHealthcheck = { argv: ['true'], intervalMs: 1000, timeoutMs: 500, startPeriodMs: 10_000, startIntervalMs: 200, retries: 2 };
  const probe = (state: HealthState, atMs: number, exitCode: number): HealthState =>
    applyProbe(state, { startMs: T0 + atMs, endMs: T0 + atMs + 5, exitCode, output: `exit ${exitCode}` }, hc, T0);

  it('start period failures do not count; then retries decide unhealthy', () => {
    let s = initialHealth();
    s = probe(s, 1000, 1);
    s = probe(s, 2000, 1);
    s = probe(s, 3000, 1);
    assert.deepEqual([s.Status, s.FailingStreak], ['starting', 0]);
    s = probe(s, 11_000, 1);
    assert.deepEqual([s.Status, s.FailingStreak], ['starting', 1]);
    s = probe(s, 12_000, 1);
    assert.deepEqual([s.Status, s.FailingStreak], ['unhealthy', 2]);
    s = probe(s, 13_000, 0);
    assert.deepEqual([s.Status, s.FailingStreak], ['healthy', 0]);
  });

  it('once healthy, start-period failures count', () => {
    let s = probe(initialHealth(), 1000, 0);
    assert.equal(s.Status, 'healthy');
    s = probe(s, 2000, 1);
    assert.deepEqual([s.Status, s.FailingStreak], ['healthy', 1]);
    s = probe(s, 3000, 1);
    assert.equal(s.Status, 'unhealthy');
  });

  it('keeps the last 5 probes with Docker fields', () => {
    let s = initialHealth();
    for (let i = 0; i < 7; i++) s = probe(s, 20_000 + i * 1000, i % 2);
    assert.equal(s.Log.length, 5);
    assert.deepEqual(s.Log[4], { Start: new Date(T0 + 26_000).toISOString(), End: new Date(T0 + 26_005).toISOString(), ExitCode: 0, Output: 'exit 0' });
    const big = applyProbe(initialHealth(), { startMs: T0, endMs: T0, exitCode: 0, output: 'x'.repeat(10_000) }, hc, T0);
    assert.equal(big.Log[0]!.Output.length, 4096);
  });

  it('timeout and exec-error results', () => {
    assert.deepEqual(timeoutResult(T0, T0 + 500, 30_000), { startMs: T0, endMs: T0 + 500, exitCode: -1, output: 'Health check exceeded timeout (30s)' });
    assert.equal(timeoutResult(T0, T0, 1500).output, 'Health check exceeded timeout (1.5s)');
    assert.equal(timeoutResult(T0, T0, 90_000).output, 'Health check exceeded timeout (1m30s)');
    assert.equal(errorResult(T0, T0, new Error('OCI runtime exec failed')).exitCode, -1);
  });

  it('schedule: start interval while starting in the start period, interval otherwise', () => {
    const starting = initialHealth();
    assert.equal(nextProbeDelay(starting, hc, T0, T0 + 1000), 200);
    assert.equal(nextProbeDelay({ ...starting, Status: 'healthy' }, hc, T0, T0 + 1000), 1000);
    assert.equal(nextProbeDelay(starting, hc, T0, T0 + 10_000), 1000);
  });
});
