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

  it("runc's syntax ('attached'): -bDIR, bools true unless \"false\", its own error texts", () => {
    const rs: FlagSpec[] = [
      { name: 'bundle', short: 'b', type: 'string' },
      { name: 'detach', short: 'd', type: 'bool' },
      { name: 'env', short: 'e', type: 'list' },
    ];
    const opts = { shorts: 'attached' as const, boolValue: 'notFalse' as const, messages: { needsValue: (_s: string, f: FlagSpec) => `flag --${f.name} needs a value` } };
    const p = parseFlags(['-b/x', '-e', 'A=1', '--env=B=2', '--detach=no', 'id'], rs, opts);
    assert.deepEqual(p.flags, { bundle: '/x', detach: true, env: ['A=1', 'B=2'] });
    assert.deepEqual(p.args, ['id']);
    assert.equal(parseFlags(['-dfalse'], rs, opts).flags.detach, false);
    assert.throws(() => parseFlags(['-db'], rs, { ...opts, boolValue: 'strict' }), /invalid argument "b" for "-d"/);
    assert.throws(() => parseFlags(['-b'], rs, opts), /^FlagError: flag --bundle needs a value$/);
  });

  it("Compose's syntax ('literal'): -f never split, no = after a short, bools refuse a value", () => {
    const cs: FlagSpec[] = [
      { name: 'file', short: 'f', type: 'list' },
      { name: 'help', short: 'h', type: 'bool' },
    ];
    const opts = { shorts: 'literal' as const, boolValue: 'refuse' as const, stopAtPositional: true, messages: { unknownShort: (_c: string, a: string) => `unknown flag: ${a}` } };
    const p = parseFlags(['-f', 'a.yaml', '--file=b.yaml', '-h', 'up', '-d'], cs, opts);
    assert.deepEqual(p.flags, { file: ['a.yaml', 'b.yaml'], help: true });
    assert.deepEqual(p.args, ['up', '-d']);
    assert.equal(p.dashDash, false);
    assert.equal(parseFlags(['--', 'up'], cs, opts).dashDash, true);
    assert.throws(() => parseFlags(['-fa.yaml'], cs, opts), /^FlagError: unknown flag: -fa\.yaml$/);
    assert.throws(() => parseFlags(['-f=a.yaml'], cs, opts), /unknown flag: -f=a\.yaml/);
    assert.throws(() => parseFlags(['--help=1'], cs, opts), /flag does not take a value: --help/);
    assert.throws(() => parseFlags(['-f'], cs, opts), /flag needs an argument: '-f'|flag needs an argument: 'f' in -f/);
  });
});
