import assert from 'node:assert/strict';
import {
  buildV1Stats, buildV2Stats, parseFlatKeyed, parseFrozen, parseLimitValue, parsePidList, parseV1OomKills, parseV2OomKills,
} from './stats-parse.js';

describe('cgroups/stats-parse', () => {
  it('reads single values, with max and v1 page-counter maximum as -1', () => {
    assert.equal(parseLimitValue('1234\n'), 1234);
    assert.equal(parseLimitValue('max\n'), -1);
    assert.equal(parseLimitValue('-1'), -1);
    assert.equal(parseLimitValue('9223372036854771712\n'), -1);
    assert.throws(() => parseLimitValue('abc'), /not a number: "abc"/);
    assert.throws(() => parseLimitValue(''), /not a number/);
  });

  it('reads flat keyed files and skips junk lines', () => {
    assert.deepEqual(parseFlatKeyed('cache 10\nrss 20\n\nbogus\nx y\n'), { cache: 10, rss: 20 });
  });

  it('reads pid lists', () => {
    assert.deepEqual(parsePidList('12\n345\n'), [12, 345]);
    assert.deepEqual(parsePidList(''), []);
  });

  it('reads OOM kill counts from v1 oom_control and v2 memory.events', () => {
    assert.equal(parseV1OomKills('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n'), 3);
    assert.equal(parseV1OomKills('oom_kill_disable 0\nunder_oom 0\n'), 0); // kernel < 4.13
    assert.equal(parseV1OomKills(undefined), 0);
    assert.equal(parseV2OomKills('low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\noom_group_kill 0\n'), 2);
  });

  it('reads the frozen flag from cgroup.events', () => {
    assert.equal(parseFrozen('populated 1\nfrozen 1\n'), true);
    assert.equal(parseFrozen('populated 1\nfrozen 0\n'), false);
    assert.equal(parseFrozen('populated 1\n'), undefined);
  });

  it('assembles v1 stats', () => {
    const s = buildV1Stats({
      'memory.usage_in_bytes': '4096\n',
      'memory.limit_in_bytes': '268435456\n',
      'memory.max_usage_in_bytes': '8192\n',
      'memory.failcnt': '1\n',
      'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
      'memory.stat': 'cache 100\nrss 200\n',
      'cpuacct.usage': '5000000\n',
      'cpuacct.usage_user': '3000000\n',
      'cpuacct.usage_sys': '2000000\n',
      'cpu.stat': 'nr_periods 10\nnr_throttled 4\nthrottled_time 999\n',
      'pids.current': '2\n',
      'pids.max': 'max\n',
    });
    assert.deepEqual(s, {
      memory: { usage: 4096, limit: 268435456, maxUsage: 8192, failcnt: 1, oomKills: 1, stat: { cache: 100, rss: 200 } },
      cpu: { usageNs: 5000000, userNs: 3000000, systemNs: 2000000, throttledPeriods: 4, throttledTimeNs: 999 },
      pids: { current: 2, limit: -1 },
    });
  });

  it('falls back to cpuacct.stat ticks and defaults for missing files', () => {
    const s = buildV1Stats({ 'cpuacct.usage': '7', 'cpuacct.stat': 'user 3\nsystem 1\n', 'memory.limit_in_bytes': '9223372036854771712' });
    assert.equal(s.cpu.userNs, 30_000_000);
    assert.equal(s.cpu.systemNs, 10_000_000);
    assert.equal(s.memory.limit, -1);
    assert.equal(s.memory.usage, 0);
    assert.equal(s.memory.maxUsage, undefined);
    assert.deepEqual(s.pids, { current: 0, limit: -1 });
  });

  it('assembles v2 stats', () => {
    const s = buildV2Stats({
      'memory.current': '4096\n',
      'memory.max': 'max\n',
      'memory.peak': '10000\n',
      'memory.events': 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n',
      'memory.stat': 'anon 10\nfile 20\n',
      'cpu.stat': 'usage_usec 300\nuser_usec 200\nsystem_usec 100\nnr_periods 3\nnr_throttled 2\nthrottled_usec 50\n',
      'pids.current': '3\n',
      'pids.max': '100\n',
    });
    assert.deepEqual(s, {
      memory: { usage: 4096, limit: -1, maxUsage: 10000, failcnt: 5, oomKills: 1, stat: { anon: 10, file: 20 } },
      cpu: { usageNs: 300_000, userNs: 200_000, systemNs: 100_000, throttledPeriods: 2, throttledTimeNs: 50_000 },
      pids: { current: 3, limit: 100 },
    });
  });
});
