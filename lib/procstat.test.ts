import assert from 'node:assert/strict';
import { parseProcStat, readProcStat, ProcStatError } from './procstat.js';

// A real line's shape: pid (comm) state ppid … with starttime as field 22.
const line = (comm: string, state: string, start: string): string =>
  `4242 (${comm}) ${state} 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 ${start} 12345 67 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n`;

describe('procstat', () => {
  it('reads the state and start time after the comm field', () => {
    assert.deepEqual(parseProcStat(line('sh', 'S', '98765')), { state: 'S', startTime: '98765' });
  });

  it('counts fields from the last parenthesis when comm holds spaces and parentheses', () => {
    assert.deepEqual(parseProcStat(line('a) b (c', 'Z', '7')), { state: 'Z', startTime: '7' });
  });

  it('names what is missing in malformed text', () => {
    assert.throws(() => parseProcStat('4242 sh S 1'), ProcStatError);
    assert.throws(() => parseProcStat('4242 (sh) S 1 2'), /field 22/);
  });

  it('reads this process, and nothing for a pid that does not exist', () => {
    const self = readProcStat(process.pid);
    assert.ok(self);
    assert.match(self.startTime, /^\d+$/);
    assert.equal(self.state, 'R');
    assert.equal(readProcStat(2 ** 22 + 1), undefined); // above pid_max's ceiling (4194304)
  });
});
