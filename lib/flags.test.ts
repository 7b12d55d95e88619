import assert from 'node:assert/strict';
import { parseFlags, FlagError, type FlagSpec } from './flags.js';

const specs: FlagSpec[] = [
  { name: 'detach', short: 'd', type: 'bool' },
  { name: 'interactive', short: 'i', type: 'bool' },
  { name: 'tty', short: 't', type: 'bool' },
  { name: 'env', short: 'e', type: 'list' },
  { name: 'name', type: 'string' },
  { name: 'time', short: 't2', type: 'int' },
  { name: 'memory', short: 'm', type: 'string' },
];

describe('lib/flags', () => {
  it('parses long, short, grouped and repeated flags', () => {
    const p = parseFlags(['-it', '--name=web', '-e', 'A=1', '-eB=2', '--detach', '-m512m', 'img'], specs);
    assert.deepEqual(p.flags, {
      env: ['A=1', 'B=2'],
      interactive: true,
      tty: true,
      name: 'web',
      detach: true,
      memory: '512m',
    });
    assert.deepEqual(p.args, ['img']);
  });

  it('stops at the first positional so the command keeps its own flags', () => {
    const p = parseFlags(['-d', 'busybox', 'ls', '-l', '--name', 'x'], specs, { stopAtPositional: true });
    assert.equal(p.flags.detach, true);
    assert.equal(p.flags.name, undefined);
    assert.deepEqual(p.args, ['busybox', 'ls', '-l', '--name', 'x']);
  });

  it('names the flag in errors', () => {
    assert.throws(() => parseFlags(['--nope'], specs), (e: unknown) => e instanceof FlagError && /--nope/.test(e.message));
    assert.throws(() => parseFlags(['--name'], specs), /flag needs an argument: --name/);
    assert.throws(() => parseFlags(['-x'], specs), /unknown shorthand flag: 'x'/);
    assert.throws(() => parseFlags(['--time', 'abc'], specs), /invalid argument "abc" for "--time"/);
    assert.throws(() => parseFlags(['--detach=maybe'], specs), /expected true or false/);
  });

  it('treats everything after -- as positional', () => {
    const p = parseFlags(['--', '-d', 'x'], specs);
    assert.deepEqual(p.args, ['-d', 'x']);
    assert.equal(p.flags.detach, undefined);
  });
});
